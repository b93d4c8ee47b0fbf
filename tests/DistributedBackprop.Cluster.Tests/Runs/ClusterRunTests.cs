using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Tests.Runs;

public sealed class ClusterRunTests
{
    [Fact]
    public async Task Run_OnOneSilo_CompletesWithOrderedEvents()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var spec = Specs.Small(data.Directory, workers: 2, shards: 2);

        var events = await RunDriver.RunToEndAsync(cluster.Client, "one-silo", spec, TimeSpan.FromMinutes(2));

        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, events[^1].EventCase);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (ulong)i), events.Select(e => e.Sequence));
        Assert.Equal(2, events.Count(e => e.EventCase == RunEvent.EventOneofCase.WorkerJoined));
        Assert.Equal(spec.Epochs, events.Count(e => e.EventCase == RunEvent.EventOneofCase.EpochCompleted));
        var lastEpoch = events.Last(e => e.EventCase == RunEvent.EventOneofCase.EpochCompleted).EpochCompleted;
        // Chance is 0.1 with 10 classes.
        Assert.InRange(lastEpoch.TestAccuracy, 0.25, 1.0);
    }
}
