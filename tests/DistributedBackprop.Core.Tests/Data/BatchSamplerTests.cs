using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Data;

public sealed class BatchSamplerTests
{
    private const int Rows = 103;
    private const int Batch = 10;
    private const ulong Seed = 42;

    private static int[] RowsOf(BatchSampler sampler, int epoch, int step)
    {
        var rows = new int[sampler.BatchSize];
        sampler.GetBatch(epoch, step, rows);
        return rows;
    }

    // The definition: identity permutation shuffled with DeterministicRandom(seed, stream: epoch), cut into steps.
    private static int[] Reference(int epoch, int step)
    {
        var permutation = Enumerable.Range(0, Rows).ToArray();
        new DeterministicRandom(Seed, stream: (ulong)epoch).Shuffle(permutation);
        return permutation[(step * Batch)..((step + 1) * Batch)];
    }

    [Fact]
    public void StepsPerEpoch_RowsNotMultipleOfBatch_DropsIncompleteBatch()
    {
        Assert.Equal(10, new BatchSampler(Rows, Batch, Seed).StepsPerEpoch);
        Assert.Equal(1, new BatchSampler(10, 10, Seed).StepsPerEpoch);
    }

    [Fact]
    public void GetBatch_AnyStep_MatchesShuffledPermutationSlice()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);

        Assert.Equal(Reference(0, 0), RowsOf(sampler, 0, 0));
        Assert.Equal(Reference(0, 9), RowsOf(sampler, 0, 9));
        Assert.Equal(Reference(3, 4), RowsOf(sampler, 3, 4));
    }

    [Fact]
    public void GetBatch_SameSeed_SameRowsFromIndependentSamplers()
    {
        var first = new BatchSampler(Rows, Batch, Seed);
        var second = new BatchSampler(Rows, Batch, Seed);

        for (int step = 0; step < first.StepsPerEpoch; step++)
        {
            Assert.Equal(RowsOf(first, 2, step), RowsOf(second, 2, step));
        }
    }

    [Fact]
    public void GetBatch_DifferentSeed_DifferentRows()
    {
        Assert.NotEqual(RowsOf(new BatchSampler(Rows, Batch, 1), 0, 0), RowsOf(new BatchSampler(Rows, Batch, 2), 0, 0));
    }

    [Fact]
    public void GetBatch_DifferentEpoch_DifferentPermutation()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);

        var epoch0 = Enumerable.Range(0, sampler.StepsPerEpoch).SelectMany(s => RowsOf(sampler, 0, s)).ToArray();
        var epoch1 = Enumerable.Range(0, sampler.StepsPerEpoch).SelectMany(s => RowsOf(sampler, 1, s)).ToArray();

        Assert.NotEqual(epoch0, epoch1);
    }

    [Fact]
    public void GetBatch_OneEpoch_BatchesDisjointAndCoverStepsTimesBatchDistinctRows()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);
        var seen = new HashSet<int>();

        for (int step = 0; step < sampler.StepsPerEpoch; step++)
        {
            foreach (int row in RowsOf(sampler, 5, step))
            {
                Assert.InRange(row, 0, Rows - 1);
                Assert.True(seen.Add(row), $"Row {row} appears twice in epoch 5 (step {step}).");
            }
        }

        Assert.Equal(sampler.StepsPerEpoch * Batch, seen.Count);
    }

    [Fact]
    public void GetBatch_EpochsRequestedOutOfOrder_ReturnsSameRowsAsFirstTime()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);
        var first = RowsOf(sampler, 0, 3);

        RowsOf(sampler, 1, 3);

        Assert.Equal(first, RowsOf(sampler, 0, 3));
    }

    [Fact]
    public void GetBatch_ConcurrentCallersOnDifferentEpochs_AgreeWithDefinition()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();

        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            int epoch = i % 3;
            int step = i % 10;
            var rows = new int[Batch];
            sampler.GetBatch(epoch, step, rows);
            if (!rows.SequenceEqual(Reference(epoch, step)))
            {
                failures.Add($"epoch {epoch} step {step}");
            }
        });

        Assert.Empty(failures);
    }

    [Fact]
    public void GetMicroBatch_AllMicroBatches_PartitionGlobalBatchInOrder()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);
        var global = RowsOf(sampler, 1, 2);
        var joined = new List<int>();

        for (int i = 0; i < 5; i++)
        {
            var micro = new int[sampler.MicroBatchSize(5)];
            sampler.GetMicroBatch(1, 2, i, 5, micro);
            Assert.Equal(i * 2, sampler.MicroBatchStart(i, 5));
            joined.AddRange(micro);
        }

        Assert.Equal(global, joined);
    }

    [Fact]
    public void GetRange_ConsecutiveMicroBatches_EqualsTheirSliceOfGlobalBatch()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);
        var rows = new int[6];

        sampler.GetRange(4, 7, 2, 6, rows);

        Assert.Equal(RowsOf(sampler, 4, 7)[2..8], rows);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public void MicroBatchSize_CountNotDividingBatch_NamesBatchSizeAndCount(int microBatches)
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);

        var e = Assert.Throws<ArgumentException>(() => sampler.GetMicroBatch(0, 0, 0, microBatches, new int[10]));

        Assert.Contains($"Micro-batch count {microBatches}", e.Message);
        Assert.Contains("batch size 10", e.Message);
    }

    [Fact]
    public void GetBatch_StepPastEpoch_Throws()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => sampler.GetBatch(0, 10, new int[Batch]));

        Assert.Contains("[0, 10)", e.Message);
    }

    [Fact]
    public void Constructor_BatchLargerThanDataset_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchSampler(5, 8, Seed));

        Assert.Contains("Batch size 8 exceeds the 5 rows", e.Message);
    }

    [Fact]
    public void GetBatch_SteadyState_AllocatesNothing()
    {
        var sampler = new BatchSampler(Rows, Batch, Seed);
        var rows = new int[Batch];
        sampler.GetBatch(0, 0, rows);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 0; step < sampler.StepsPerEpoch; step++)
        {
            sampler.GetMicroBatch(0, step, 1, 2, rows);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
