using DistributedBackprop.Cluster.Coordinator;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Tests.Runs;

/// <summary>The per-epoch timings the benchmark reads: step counts and the bytes that cross silos, against
/// counts derived from the placement the run reported.</summary>
public sealed class EpochTimingsTests
{
    [Fact]
    public async Task GetEpochTimings_ThreeSilos_CountsEveryRemoteShardSliceOncePerSiloAndTransfer()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 3);
        var spec = Specs.Small(data.Directory, workers: 4, shards: 3);

        var events = await RunDriver.RunToEndAsync(cluster.Client, "timed", spec, TimeSpan.FromMinutes(2));
        var timings = await cluster.Client.GetGrain<ICoordinatorGrain>("timed").GetEpochTimingsAsync();

        Assert.True(events[^1].EventCase == RunEvent.EventOneofCase.RunCompleted, events[^1].ToString());
        var started = events.Single(e => e.EventCase == RunEvent.EventOneofCase.RunStarted).RunStarted;
        var ranges = RunPlan.ShardRanges((int)started.ParameterCount, spec.ParameterShards);
        var workerSilos = events.Where(e => e.EventCase == RunEvent.EventOneofCase.WorkerJoined)
            .Select(e => e.WorkerJoined.Silo).Distinct().ToList();

        // With 8 micro-batches over ranks placed 0,0,1,2 every silo is left with one tree node per step, so it
        // pushes, and fetches, one slice of every shard; the slices of shards on other silos cross.
        long perSiloTransfer = workerSilos.Sum(silo => Enumerable.Range(0, ranges.Length)
            .Where(j => started.ShardSilos[j] != silo)
            .Sum(j => (long)ranges[j].Length * sizeof(float)));
        Assert.Equal(spec.Epochs, timings.Count);
        for (int e = 0; e < timings.Count; e++)
        {
            var epoch = timings[e];
            Assert.Equal((e + 1, 8, 4, 3), (epoch.Epoch, epoch.Steps, epoch.Workers, epoch.Silos));
            Assert.Equal(8 * perSiloTransfer, epoch.Push.CrossSiloBytes);

            // Evaluation after each epoch fetches the next epoch's first version outside the steps.
            int fetches = e == 0 ? 8 : 7;
            Assert.Equal(fetches * perSiloTransfer, epoch.Pull.CrossSiloBytes);
            Assert.Equal(fetches * 3 * ranges.Length, epoch.Pull.Transfers);
            // The silos' spans overlap in time, so their union is at most their sum.
            Assert.InRange(epoch.CrossSiloWallSeconds, 1e-7, epoch.Pull.Seconds + epoch.Push.Seconds);
            Assert.True(epoch.ComputeSeconds > 0 && epoch.StepSeconds >= epoch.WorkerPhaseSeconds,
                $"epoch {epoch.Epoch}: compute {epoch.ComputeSeconds} s, step {epoch.StepSeconds} s, worker "
                + $"phase {epoch.WorkerPhaseSeconds} s");
        }
    }

    [Fact]
    public void AddStep_OverlappingAndSeparateSpans_CrossSiloWallTimeIsTheirUnion()
    {
        long t0 = new DateTime(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc).Ticks;
        long ms = TimeSpan.TicksPerMillisecond;

        // Silo A fetches over [0, 4) ms and pushes over [10, 12); silo B fetches over [2, 6) and pushes over
        // [11, 15); silo C's push moved nothing across silos and must not count. Union: [0, 6) + [10, 15).
        WorkerStepResult Worker(int rank, TransferReport pull, TransferReport push) =>
            new(rank, [0.5], [1], new StepTimings(0, 0.001, 0, pull, push), []);
        TransferReport Span(long startMs, long endMs, long bytes = 64) =>
            new(bytes, (endMs - startMs) / 1000.0, 1, bytes, t0 + startMs * ms);
        var results = new[]
        {
            Worker(0, Span(0, 4), Span(10, 12)),
            Worker(1, Span(2, 6), Span(11, 15)),
            Worker(2, default, Span(3, 30, bytes: 0)),
        };

        var epoch = EpochTimings.Start(1, 3, 3).AddStep(0.02, 0.015, results, 0, 0);

        Assert.Equal(0.011, epoch.CrossSiloWallSeconds, 9);
        Assert.Equal(0.008, epoch.Pull.Seconds, 9);
        Assert.Equal(0.006 + 0.027, epoch.Push.Seconds, 9);
    }

    [Fact]
    public async Task GetEpochTimings_OneSilo_CountsTransfersButNoCrossSiloBytes()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var spec = Specs.Small(data.Directory, workers: 4, shards: 2);

        await RunDriver.RunToEndAsync(cluster.Client, "timed-local", spec, TimeSpan.FromMinutes(2));
        var timings = await cluster.Client.GetGrain<ICoordinatorGrain>("timed-local").GetEpochTimingsAsync();

        Assert.All(timings, epoch =>
        {
            Assert.Equal((0L, 0L), (epoch.Push.CrossSiloBytes, epoch.Pull.CrossSiloBytes));
            Assert.Equal(8 * 2, epoch.Push.Transfers);
            Assert.True(epoch.Push.Seconds > 0, $"epoch {epoch.Epoch}: pushes took {epoch.Push.Seconds} s");
        });
    }

    [Fact]
    public async Task GetEpochTimings_OneSiloWithoutNormClipping_ReducerFetchesOnlyTheInitialParameters()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var spec = Specs.Small(data.Directory, workers: 4, shards: 2, clipNorm: 0);

        await RunDriver.RunToEndAsync(cluster.Client, "timed-pushed", spec, TimeSpan.FromMinutes(2));
        var timings = await cluster.Client.GetGrain<ICoordinatorGrain>("timed-pushed").GetEpochTimingsAsync();

        // The shards hand each new version to the reducer with their push replies: only step 1 fetches.
        Assert.Equal([2, 0, 0, 0], timings.Select(epoch => epoch.Pull.Transfers));
        Assert.All(timings, epoch => Assert.Equal(8 * 2, epoch.Push.Transfers));
    }
}
