using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Testing;

namespace DistributedBackprop.Cluster.Tests.Runs;

public sealed class MultiProcessTests
{
    [Fact]
    public async Task Run_OnThreeSiloProcessesJoinedThroughRedis_CompletesAndMatchesSingleProcess()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await MultiProcessCluster.StartAsync(silos: 3, TimeSpan.FromMinutes(2));
        var spec = Specs.Small(data.Directory, workers: 4, shards: 3);

        var events = await RunDriver.RunToEndAsync(cluster.Client, "three-processes", spec, TimeSpan.FromMinutes(2));

        Assert.True(events[^1].EventCase == RunEvent.EventOneofCase.RunCompleted,
            $"{events[^1]}\nSilo output:\n{cluster.Output}");
        var started = events.Single(e => e.EventCase == RunEvent.EventOneofCase.RunStarted).RunStarted;
        Assert.Equal(3, started.Silos);
        Assert.Equal(3, started.ShardSilos.Distinct().Count());
        var actual = await RunDriver.ParametersAsync(cluster.Client, "three-processes");
        EquivalenceTests.AssertBitEqual(SingleProcessReference.Train(spec).Parameters, actual, "3 processes");
        await ChannelAssert.CarriedAllCrossSiloBytesAsync(cluster.Client, "three-processes");
    }
}
