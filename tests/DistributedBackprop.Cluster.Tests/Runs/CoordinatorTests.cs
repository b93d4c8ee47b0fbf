using DistributedBackprop.Cluster.Coordinator;
using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Tests.Runs;

public sealed class CoordinatorTests
{
    [Fact]
    public async Task StartAsync_InvalidSpec_ThrowsListingProblemsAndStartsNothing()
    {
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var spec = Specs.Small("/nowhere", workers: 9, shards: 1);
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>("invalid");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => coordinator.StartAsync(spec));

        Assert.Contains("workers is 9 but microBatches is 8", error.Message, StringComparison.Ordinal);
        Assert.Equal(RunState.Unspecified, (await coordinator.GetStatusAsync()).State);
    }

    [Fact]
    public async Task CancelAsync_DuringRun_EndsWithRunCancelled()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var spec = Specs.Small(data.Directory, workers: 2, shards: 1);
        spec.Epochs = 1000;
        var coordinator = cluster.Client.GetGrain<ICoordinatorGrain>("cancelled");
        await coordinator.StartAsync(spec);

        var first = await coordinator.WaitForEventsAsync(0, 1000, TimeSpan.FromMinutes(1));
        ulong seen = first[^1].Sequence;
        while (!first.Any(e => e.EventCase == RunEvent.EventOneofCase.StepProgress))
        {
            first = await coordinator.WaitForEventsAsync(seen, 1000, TimeSpan.FromMinutes(1));
            Assert.True(first.Count > 0, "no StepProgress event within a minute");
            seen = first[^1].Sequence;
        }

        await coordinator.CancelAsync("stopped by the test");
        var events = await RunDriver.FollowToEndAsync(coordinator, seen, TimeSpan.FromMinutes(1));

        Assert.Equal(RunEvent.EventOneofCase.RunCancelled, events[^1].EventCase);
        Assert.Equal("stopped by the test", events[^1].RunCancelled.Reason);
        Assert.Equal(RunState.Cancelled, (await coordinator.GetStatusAsync()).State);
    }
}
