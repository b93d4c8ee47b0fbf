using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Data;

/// <summary>
/// Decides which dataset rows make up each mini-batch, from (seed, epoch, step) alone, so every worker of a run
/// computes the same batches without talking to the others.
/// </summary>
/// <remarks>
/// <para>
/// Epoch e is a Fisher-Yates permutation of rows [0, RowCount) drawn from
/// <c>DeterministicRandom(seed, stream: e)</c>. Step s of the epoch takes positions [s·B, (s+1)·B) of that
/// permutation, B being the global batch size. The last RowCount mod B rows of each permutation are not used in
/// that epoch (the incomplete batch is dropped, so every step has exactly B rows); a different permutation
/// next epoch makes different rows miss out.
/// </para>
/// <para>
/// A global batch is split into M micro-batches of B/M consecutive rows: micro-batch i holds positions
/// [i·B/M, (i+1)·B/M) of the global batch. A row's position in the global batch is its sample id, the index
/// that per-sample randomness such as dropout masks is keyed on, so it does not depend on which worker runs it.
/// </para>
/// <para>
/// Thread-safe. The permutation of the most recently asked epoch is cached in one buffer guarded by a lock, and
/// rows are copied out under that lock, so steps allocate nothing; asking for another epoch costs one shuffle
/// of RowCount rows and one small generator object.
/// </para>
/// </remarks>
public sealed class BatchSampler
{
    private readonly Lock _gate = new();

    // The permutation of _epoch; _epoch is -1 until the first request.
    private readonly int[] _permutation;
    private int _epoch = -1;

    /// <param name="rowCount">Rows in the training dataset.</param>
    /// <param name="batchSize">The global mini-batch size B, at most <paramref name="rowCount"/>.</param>
    /// <param name="seed">The run's seed.</param>
    public BatchSampler(int rowCount, int batchSize, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (batchSize > rowCount)
        {
            throw new ArgumentOutOfRangeException(
                nameof(batchSize), $"Batch size {batchSize} exceeds the {rowCount} rows of the dataset.");
        }

        RowCount = rowCount;
        BatchSize = batchSize;
        Seed = seed;
        _permutation = new int[rowCount];
    }

    public int RowCount { get; }

    /// <summary>The global mini-batch size B.</summary>
    public int BatchSize { get; }

    public ulong Seed { get; }

    /// <summary>floor(RowCount / B): the incomplete last batch of an epoch is dropped.</summary>
    public int StepsPerEpoch => RowCount / BatchSize;

    /// <summary>The size of one micro-batch, B / M.</summary>
    /// <exception cref="ArgumentException">M is not positive or does not divide B.</exception>
    public int MicroBatchSize(int microBatchCount)
    {
        if (microBatchCount < 1 || BatchSize % microBatchCount != 0)
        {
            throw new ArgumentException(
                $"Micro-batch count {microBatchCount} does not divide batch size {BatchSize}: choose a count "
                + "that divides the batch size evenly.",
                nameof(microBatchCount));
        }

        return BatchSize / microBatchCount;
    }

    /// <summary>
    /// The sample id (position in the global batch) of micro-batch <paramref name="microBatch"/>'s first row;
    /// its rows have ids [start, start + B/M).
    /// </summary>
    public int MicroBatchStart(int microBatch, int microBatchCount)
    {
        int size = MicroBatchSize(microBatchCount);
        ArgumentOutOfRangeException.ThrowIfNegative(microBatch);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(microBatch, microBatchCount);
        return microBatch * size;
    }

    /// <summary>Writes the B dataset rows of step <paramref name="step"/> of <paramref name="epoch"/>.</summary>
    /// <param name="rows">At least B ints; the first B are written, in sample-id order.</param>
    public void GetBatch(int epoch, int step, Span<int> rows) => GetRange(epoch, step, 0, BatchSize, rows);

    /// <summary>Writes the B/M rows of micro-batch <paramref name="microBatch"/> of M.</summary>
    /// <param name="rows">At least B/M ints; the first B/M are written.</param>
    public void GetMicroBatch(int epoch, int step, int microBatch, int microBatchCount, Span<int> rows) =>
        GetRange(epoch, step, MicroBatchStart(microBatch, microBatchCount), MicroBatchSize(microBatchCount), rows);

    /// <summary>
    /// Writes positions [start, start + count) of the global batch: the rows of a worker that owns several
    /// consecutive micro-batches.
    /// </summary>
    public void GetRange(int epoch, int step, int start, int count, Span<int> rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if ((uint)step >= (uint)StepsPerEpoch)
        {
            throw new ArgumentOutOfRangeException(
                nameof(step), $"Step {step} is outside [0, {StepsPerEpoch}), the steps of an epoch.");
        }

        if (start < 0 || count < 0 || start + count > BatchSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(start), $"Range [{start}, {start + count}) is not inside the batch [0, {BatchSize}).");
        }

        if (rows.Length < count)
        {
            throw new ArgumentException($"The row buffer holds {rows.Length} ints; {count} are needed.", nameof(rows));
        }

        lock (_gate)
        {
            if (_epoch != epoch)
            {
                Shuffle(epoch);
            }

            _permutation.AsSpan(step * BatchSize + start, count).CopyTo(rows);
        }
    }

    /// <summary>Fills the permutation buffer for <paramref name="epoch"/>. Caller holds the lock.</summary>
    private void Shuffle(int epoch)
    {
        for (int i = 0; i < _permutation.Length; i++)
        {
            _permutation[i] = i;
        }

        new DeterministicRandom(Seed, stream: (ulong)epoch).Shuffle(_permutation);
        _epoch = epoch;
    }
}
