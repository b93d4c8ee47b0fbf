using DistributedBackprop.Cluster.Messages;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>How a run's work is divided: micro-batches among workers, the flat vector among shards, test rows
/// among workers. Pure functions of the counts, so every grain derives the same division.</summary>
public static class RunPlan
{
    /// <summary>Shard boundaries fall on multiples of this many floats: the gradient-norm chunk size, so no shard
    /// cuts a chunk and the global norm does not depend on the shard count.</summary>
    public const int ShardAlignment = Core.Optimizers.GradientNorm.ChunkSize;

    /// <summary>Worker <paramref name="rank"/>'s micro-batches [r·M/N, (r+1)·M/N): contiguous, in rank order,
    /// none empty when N ≤ M.</summary>
    public static (int Start, int End) MicroBatchRange(int rank, int workers, int microBatches) =>
        (Part(rank, workers, microBatches), Part(rank + 1, workers, microBatches));

    /// <summary>
    /// The test rows worker <paramref name="rank"/> evaluates: a contiguous run of whole evaluation batches (of
    /// <paramref name="batchSize"/> rows from row 0, the last one partial), so every batch is the one the
    /// single-process evaluator forms and its sums carry the same bits. May be empty when N exceeds the batches.
    /// </summary>
    public static (int Start, int End) RowRange(int rank, int workers, int rows, int batchSize)
    {
        int batches = (rows + batchSize - 1) / batchSize;
        int start = (int)Math.Min(rows, (long)Part(rank, workers, batches) * batchSize);
        int end = (int)Math.Min(rows, (long)Part(rank + 1, workers, batches) * batchSize);
        return (start, end);
    }

    /// <summary>The chunk count of a vector of <paramref name="parameterCount"/> floats: the most shards it
    /// allows.</summary>
    public static int MaxShards(int parameterCount) =>
        Math.Max(1, (parameterCount + ShardAlignment - 1) / ShardAlignment);

    /// <summary>
    /// Splits [0, parameterCount) into <paramref name="shards"/> contiguous slices of whole chunks, as even as
    /// chunks allow (the last chunk may be partial).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More shards than chunks.</exception>
    public static ShardRange[] ShardRanges(int parameterCount, int shards)
    {
        int chunks = MaxShards(parameterCount);
        if (shards < 1 || shards > chunks)
        {
            throw new ArgumentOutOfRangeException(
                nameof(shards),
                $"parameter_shards is {shards}; the model's {parameterCount} parameters form {chunks} chunk(s) of "
                + $"{ShardAlignment}, so use 1 to {chunks} shard(s).");
        }

        var ranges = new ShardRange[shards];
        for (int j = 0; j < shards; j++)
        {
            int start = Part(j, shards, chunks) * ShardAlignment;
            int end = Math.Min(parameterCount, Part(j + 1, shards, chunks) * ShardAlignment);
            ranges[j] = new ShardRange(start, end);
        }

        return ranges;
    }

    private static int Part(int index, int parts, int total) => (int)((long)index * total / parts);
}
