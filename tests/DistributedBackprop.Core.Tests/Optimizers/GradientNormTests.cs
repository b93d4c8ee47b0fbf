using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Tests.Optimizers;

public sealed class GradientNormTests
{
    private const int Chunk = GradientNorm.ChunkSize;

    [Fact]
    public void ChunkSumsOfSquares_ShardsCombined_EqualWholeVectorBitForBit()
    {
        var layout = Layout();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 70);
        int[] boundaries = [0, Chunk, 3 * Chunk, layout.Count];

        var shardSums = new List<double>();
        foreach (var (start, end) in boundaries.Zip(boundaries.Skip(1)))
        {
            // One float of padding in front shifts the shard's memory alignment relative to the whole vector.
            var copy = new float[end - start + 1];
            gradients.AsSpan(start, end - start).CopyTo(copy.AsSpan(1));
            shardSums.AddRange(GradientNorm.ChunkSumsOfSquares(layout, copy.AsSpan(1), start));
        }

        var wholeSums = GradientNorm.ChunkSumsOfSquares(layout, gradients, 0);

        Assert.Equal(GradientNorm.ChunkCount(layout.Count), shardSums.Count);
        Assert.Equal(
            wholeSums.Select(BitConverter.DoubleToInt64Bits),
            shardSums.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(
            BitConverter.DoubleToInt64Bits(GradientNorm.GlobalNorm(layout, gradients)),
            BitConverter.DoubleToInt64Bits(Math.Sqrt(GradientNorm.Combine(shardSums))));
    }

    [Fact]
    public void GlobalNorm_MixedLayout_MatchesSequentialDoubleReference()
    {
        var layout = Layout();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 71);
        double expected = 0;
        foreach (var segment in layout.Segments.Where(s => s.IsTrained))
        {
            for (int i = segment.Offset; i < segment.End; i++)
            {
                expected += (double)gradients[i] * gradients[i];
            }
        }

        double norm = GradientNorm.GlobalNorm(layout, gradients);

        Assert.True(
            Math.Abs(norm - Math.Sqrt(expected)) <= 1e-12 * Math.Sqrt(expected),
            $"norm {norm:R}, reference {Math.Sqrt(expected):R}");
    }

    [Fact]
    public void GlobalNorm_LargeRunningStatistics_AreNotCounted()
    {
        var layout = Layout();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 72);
        double before = GradientNorm.GlobalNorm(layout, gradients);
        foreach (var segment in layout.Segments.Where(s => !s.IsTrained))
        {
            gradients.AsSpan(segment.Offset, segment.Length).Fill(1e6f);
        }

        Assert.Equal(before, GradientNorm.GlobalNorm(layout, gradients));
        Assert.True(before > 10, "The trained elements should carry a norm of order sqrt(n).");
    }

    [Fact]
    public void ChunkSumsOfSquares_UnalignedStart_ThrowsNamingChunkSize()
    {
        var layout = Layout();

        var exception = Assert.Throws<ArgumentException>(
            () => GradientNorm.ChunkSumsOfSquares(layout, new float[Chunk], 100));

        Assert.Contains("multiple of 4096", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChunkSumsOfSquares_SliceEndingInsideAChunk_Throws()
    {
        var layout = Layout();

        Assert.Throws<ArgumentException>(() => GradientNorm.ChunkSumsOfSquares(layout, new float[Chunk + 5], 0));
    }

    [Fact]
    public void SegmentNorms_MixedLayout_MatchPerSegmentReference()
    {
        var layout = Layout();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 73);

        var norms = GradientNorm.SegmentNorms(layout, gradients);

        for (int s = 0; s < layout.Segments.Count; s++)
        {
            var segment = layout.Segments[s];
            double sum = 0;
            for (int i = segment.Offset; i < segment.End && segment.IsTrained; i++)
            {
                sum += (double)gradients[i] * gradients[i];
            }

            Assert.Equal(Math.Sqrt(sum), norms[s], 1e-10);
        }
    }

    [Fact]
    public void AddSegmentSumsOfSquares_Shards_AddUpToWholeVectorNorms()
    {
        var layout = Layout();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 74);
        var sums = new double[layout.Segments.Count];

        GradientNorm.AddSegmentSumsOfSquares(layout, gradients.AsSpan(0, Chunk), 0, sums);
        GradientNorm.AddSegmentSumsOfSquares(layout, gradients.AsSpan(Chunk), Chunk, sums);

        var whole = GradientNorm.SegmentNorms(layout, gradients);
        for (int s = 0; s < sums.Length; s++)
        {
            Assert.Equal(whole[s], Math.Sqrt(sums[s]), 1e-10);
        }
    }

    // Three full chunks and a partial one, with segment boundaries inside chunks and one segment spanning two.
    private static ParameterLayout Layout()
    {
        var builder = new ParameterLayoutBuilder();
        builder.Add("a.weight", ParameterKind.Weight, 1000, 3);
        builder.Add("a.bias", ParameterKind.Bias, 1000);
        builder.Add("a.runningMean", ParameterKind.RunningStatistic, 0.1f, 101);
        builder.Add("b.weight", ParameterKind.Weight, 77, 99);
        builder.Add("b.runningVariance", ParameterKind.RunningStatistic, 0.1f, 3);
        builder.Add("b.bias", ParameterKind.Bias, 3 * Chunk + 1234 - 3000 - 1000 - 101 - 77 * 99 - 3);
        return builder.Build();
    }
}
