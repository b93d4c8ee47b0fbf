using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Tests.Runs;

/// <summary>The product's promise: any worker and shard count gives one process's parameters, bit for bit.</summary>
public sealed class EquivalenceTests
{
    [Theory]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    public async Task Run_AnyWorkerAndShardCount_MatchesSingleProcessBitForBit(string optimizer)
    {
        using var data = new SyntheticDataset(trainRows: 256, testRows: 64, side: 32, classes: 10);
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var expected = SingleProcessReference.Train(Specs.Small(data.Directory, 1, 1, optimizer));
        Assert.True(expected.Length > 2 * 4096, "the model must span 3 norm chunks so that 3 shards are possible");

        foreach (int workers in new[] { 1, 2, 3, 4, 8 })
        {
            foreach (int shards in new[] { 1, 3 })
            {
                var spec = Specs.Small(data.Directory, workers, shards, optimizer);
                string runId = $"{optimizer}-n{workers}-s{shards}";

                var events = await RunDriver.RunToEndAsync(cluster.Client, runId, spec, TimeSpan.FromMinutes(2));
                Assert.True(events[^1].EventCase == RunEvent.EventOneofCase.RunCompleted, $"{runId}: {events[^1]}");
                Assert.Equal(32, events[^1].RunCompleted.Steps);

                var actual = await RunDriver.ParametersAsync(cluster.Client, runId);
                AssertBitEqual(expected, actual, runId);
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
                Assert.Fail($"{what}: parameter {i} is {actual[i]:R}, one process gives {expected[i]:R}.");
            }
        }
    }
}
