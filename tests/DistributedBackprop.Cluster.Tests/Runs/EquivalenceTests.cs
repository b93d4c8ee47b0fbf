using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Tests.Runs;

/// <summary>The product's promise: any worker and shard count gives the single-process trainer's parameters,
/// bit for bit.</summary>
public sealed class EquivalenceTests
{
    [Theory]
    [InlineData("mlp", "adam")]
    [InlineData("mlp", "rmsprop")]
    [InlineData("cnn", "adam")]
    [InlineData("cnn", "rmsprop")]
    public async Task Run_AnyWorkerAndShardCount_MatchesTrainerBitForBit(string preset, string optimizer)
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var (expected, trainer) = SingleProcessReference.Train(Specs.Small(data.Directory, 1, 1, optimizer, preset));
        Assert.True(expected.Length > 2 * 4096, "the model must span 3 norm chunks so that 3 shards are possible");

        foreach (int workers in new[] { 1, 2, 3, 4, 8 })
        {
            foreach (int shards in new[] { 1, 3 })
            {
                var spec = Specs.Small(data.Directory, workers, shards, optimizer, preset);
                string runId = $"{preset}-{optimizer}-n{workers}-s{shards}";

                var events = await RunDriver.RunToEndAsync(cluster.Client, runId, spec, TimeSpan.FromMinutes(2));
                Assert.True(events[^1].EventCase == RunEvent.EventOneofCase.RunCompleted, $"{runId}: {events[^1]}");
                Assert.Equal(32, events[^1].RunCompleted.Steps);

                AssertBitEqual(expected, await RunDriver.ParametersAsync(cluster.Client, runId), runId);
                var lastEpoch = events.Last(e => e.EventCase == RunEvent.EventOneofCase.EpochCompleted);
                Assert.Equal(trainer.TestLoss, lastEpoch.EpochCompleted.TestLoss);
                Assert.Equal(trainer.TestAccuracy, lastEpoch.EpochCompleted.TestAccuracy);
            }
        }
    }

    // Without norm clipping each shard applies the update as soon as its last nodes arrive and hands the new
    // slice to its silo's reducer; across silos, pushes over the tensor channel leave it to the coordinator.
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Run_WithoutNormClipping_MatchesTrainerBitForBit(int silos)
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos);
        var (expected, trainer) = SingleProcessReference.Train(
            Specs.Small(data.Directory, 1, 1, clipNorm: 0));

        foreach (var (workers, shards) in new[] { (1, 1), (3, 3), (4, 2) })
        {
            var spec = Specs.Small(data.Directory, workers, shards, clipNorm: 0);
            string runId = $"no-clip-{silos}-n{workers}-s{shards}";

            var events = await RunDriver.RunToEndAsync(cluster.Client, runId, spec, TimeSpan.FromMinutes(2));
            Assert.True(events[^1].EventCase == RunEvent.EventOneofCase.RunCompleted, $"{runId}: {events[^1]}");

            AssertBitEqual(expected, await RunDriver.ParametersAsync(cluster.Client, runId), runId);
            var lastEpoch = events.Last(e => e.EventCase == RunEvent.EventOneofCase.EpochCompleted);
            Assert.Equal(trainer.TestAccuracy, lastEpoch.EpochCompleted.TestAccuracy);
            var norms = events.Where(e => e.EventCase == RunEvent.EventOneofCase.StepProgress)
                .Select(e => e.StepProgress.GradientNorm).ToList();
            Assert.Equal(32, norms.Count);
            Assert.All(norms, norm => Assert.True(double.IsFinite(norm) && norm > 0, $"{runId}: norm {norm}"));
        }
    }

    internal static void AssertBitEqual(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: parameter {i} is {actual[i]:R}, the trainer gives {expected[i]:R}.");
            }
        }
    }
}
