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
