using DistributedBackprop.Core.Optimizers;

namespace DistributedBackprop.Core.Tests.Optimizers;

public sealed class GradientClippingTests
{
    [Fact]
    public void ClipByGlobalNorm_NormAboveMax_ScalesTrainedElementsOnly()
    {
        var layout = OptimizerTestData.Mixed();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 80);
        var original = gradients.ToArray();
        double norm = GradientNorm.GlobalNorm(layout, gradients);

        float scale = GradientClipping.ClipByGlobalNorm(layout, gradients, 0, norm, maxNorm: 1.0);

        Assert.Equal(1.0 / (norm + 1e-6), scale, 1e-7);
        Assert.Equal(1.0, GradientNorm.GlobalNorm(layout, gradients), 1e-5);
        foreach (var segment in layout.Segments)
        {
            for (int i = segment.Offset; i < segment.End; i++)
            {
                float expected = segment.IsTrained ? original[i] * scale : original[i];
                Assert.Equal(expected, gradients[i]);
            }
        }
    }

    [Fact]
    public void ClipByGlobalNorm_NormBelowMax_LeavesGradientsUnchanged()
    {
        var layout = OptimizerTestData.Mixed();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 81);
        var original = gradients.ToArray();
        double norm = GradientNorm.GlobalNorm(layout, gradients);

        float scale = GradientClipping.ClipByGlobalNorm(layout, gradients, 0, norm, maxNorm: norm * 2);

        Assert.Equal(1f, scale);
        Assert.Equal(OptimizerTestData.Bits(original), OptimizerTestData.Bits(gradients));
    }

    [Fact]
    public void ClipByGlobalNorm_Slices_EqualWholeVectorBitForBit()
    {
        var layout = OptimizerTestData.Mixed();
        var whole = OptimizerTestData.Gaussian(layout.Count, stream: 82);
        var sliced = whole.ToArray();
        double norm = GradientNorm.GlobalNorm(layout, whole);
        int[] boundaries = [0, 7, 33, 1000, layout.Count];

        GradientClipping.ClipByGlobalNorm(layout, whole, 0, norm, maxNorm: 0.5);
        foreach (var (start, end) in boundaries.Zip(boundaries.Skip(1)))
        {
            GradientClipping.ClipByGlobalNorm(layout, sliced.AsSpan(start, end - start), start, norm, maxNorm: 0.5);
        }

        Assert.Equal(OptimizerTestData.Bits(whole), OptimizerTestData.Bits(sliced));
    }

    [Fact]
    public void ClipByValue_SliceAcrossSegments_ClampsTrainedElementsOnly()
    {
        var layout = OptimizerTestData.Mixed();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 83, scale: 3f);
        var original = gradients.ToArray();

        GradientClipping.ClipByValue(layout, gradients.AsSpan(33, 967), 33, maxValue: 1.5f);

        foreach (var segment in layout.Segments)
        {
            for (int i = segment.Offset; i < segment.End; i++)
            {
                bool clipped = segment.IsTrained && i >= 33 && i < 1000;
                float expected = clipped ? Math.Clamp(original[i], -1.5f, 1.5f) : original[i];
                Assert.Equal(expected, gradients[i]);
            }
        }

        Assert.Contains(original.Skip(33).Take(967), g => Math.Abs(g) > 1.5f);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void ClipByGlobalNorm_InvalidMaxNorm_ThrowsNamingIt(double maxNorm)
    {
        var layout = OptimizerTestData.Mixed();

        var exception = Assert.Throws<ArgumentOutOfRangeException>(
            () => GradientClipping.ClipByGlobalNorm(layout, new float[layout.Count], 0, 1.0, maxNorm));

        Assert.Contains("maxNorm must be > 0", exception.Message, StringComparison.Ordinal);
    }
}
