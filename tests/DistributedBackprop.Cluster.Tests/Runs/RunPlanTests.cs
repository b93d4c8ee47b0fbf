using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Cluster.Tests.Infrastructure;

namespace DistributedBackprop.Cluster.Tests.Runs;

public sealed class RunPlanTests
{
    [Fact]
    public void ShardRanges_ThreeShards_AlignToNormChunksAndCoverTheVector()
    {
        var ranges = RunPlan.ShardRanges(10250, 3);

        Assert.Equal([new ShardRange(0, 4096), new ShardRange(4096, 8192), new ShardRange(8192, 10250)], ranges);
    }

    [Fact]
    public void ShardRanges_MoreShardsThanChunks_ThrowsNamingTheField()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => RunPlan.ShardRanges(5000, 3));

        Assert.Contains("parameter_shards is 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 to 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MicroBatchRange_ThreeWorkersEightMicroBatches_PartitionsInRankOrder()
    {
        var ranges = Enumerable.Range(0, 3).Select(r => RunPlan.MicroBatchRange(r, 3, 8)).ToArray();

        Assert.Equal([(0, 2), (2, 5), (5, 8)], ranges);
    }

    [Fact]
    public void RowRange_ThreeWorkersFiveBatches_SplitsOnEvaluatorBatches()
    {
        var ranges = Enumerable.Range(0, 3).Select(r => RunPlan.RowRange(r, 3, 4500, 1000)).ToArray();

        Assert.Equal([(0, 1000), (1000, 3000), (3000, 4500)], ranges);
    }

    [Fact]
    public void Validate_BadSpec_ListsEveryProblem()
    {
        var spec = Specs.Small("/data", workers: 9, shards: 0, optimizer: "adam");
        spec.Optimizer.Beta1 = 1.5f;

        var errors = RunSpecValidator.Validate("bad/id", spec);

        Assert.Contains(errors, e => e.StartsWith("run id 'bad/id'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("parameterShards is 0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("workers is 9 but microBatches is 8", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("beta1", StringComparison.Ordinal));
        Assert.Equal(4, errors.Count);
    }

    [Fact]
    public void Validate_SmallSpec_HasNoProblems()
    {
        Assert.Empty(RunSpecValidator.Validate("ok", Specs.Small("/data", workers: 4, shards: 3)));
    }
}
