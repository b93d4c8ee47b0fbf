using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;
using Microsoft.Extensions.DependencyInjection;

namespace DistributedBackprop.Cluster.Tests.Runs;

public sealed class MultiSiloTests
{
    [Fact]
    public async Task Run_OnThreeSilos_UsesEverySiloAndMatchesSingleProcess()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 3);
        var spec = Specs.Small(data.Directory, workers: 4, shards: 3);

        var events = await RunDriver.RunToEndAsync(cluster.Client, "three-silos", spec, TimeSpan.FromMinutes(2));

        Assert.True(events[^1].EventCase == RunEvent.EventOneofCase.RunCompleted, events[^1].ToString());
        var silos = cluster.Silos.Select(s => s.SiloAddress.ToParsableString()).ToHashSet();
        var workerSilos = events.Where(e => e.EventCase == RunEvent.EventOneofCase.WorkerJoined)
            .Select(e => e.WorkerJoined.Silo).ToHashSet();
        var started = events.Single(e => e.EventCase == RunEvent.EventOneofCase.RunStarted).RunStarted;
        Assert.Equal(silos, workerSilos);
        Assert.Equal(silos, started.ShardSilos.ToHashSet());
        Assert.Equal(3, started.Silos);

        var actual = await RunDriver.ParametersAsync(cluster.Client, "three-silos");
        EquivalenceTests.AssertBitEqual(SingleProcessReference.Train(spec).Parameters, actual, "3 silos");
        await ChannelAssert.CarriedAllCrossSiloBytesAsync(cluster.Client, "three-silos");
    }

    [Fact]
    public async Task Run_OnThreeSilosWithChannelOff_MatchesChannelOnBitForBit()
    {
        using var data = SyntheticDataset.Small();
        var spec = Specs.Small(data.Directory, workers: 4, shards: 3);
        float[] channelOn;
        await using (var on = await TestClusters.StartAsync(silos: 3))
        {
            await RunDriver.RunToEndAsync(on.Client, "channel-on", spec, TimeSpan.FromMinutes(2));
            channelOn = await RunDriver.ParametersAsync(on.Client, "channel-on");
            await ChannelAssert.CarriedAllCrossSiloBytesAsync(on.Client, "channel-on");
        }

        await using var off = await TestClusters.StartAsync(
            silos: 3, silo => silo.Services.Configure<TrainingSiloOptions>(o => o.TensorChannel = false));
        var events = await RunDriver.RunToEndAsync(off.Client, "channel-off", spec, TimeSpan.FromMinutes(2));

        Assert.True(events[^1].EventCase == RunEvent.EventOneofCase.RunCompleted, events[^1].ToString());
        await ChannelAssert.CarriedNothingAsync(off.Client, "channel-off");
        EquivalenceTests.AssertBitEqual(channelOn, await RunDriver.ParametersAsync(off.Client, "channel-off"), "off");
    }
}
