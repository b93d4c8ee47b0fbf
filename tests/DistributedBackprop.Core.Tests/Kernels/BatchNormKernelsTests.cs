using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Tests.Layers;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class BatchNormKernelsTests
{
    // Sizes around the vector width, so that the vector body, the scalar tail and both together are covered.
    public static TheoryData<int> Sizes => [1, 7, 8, 9, 15, 17, 33, 199];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Normalize_AnySize_MatchesScalarFormulaBitForBit(int n)
    {
        var x = LayerHarness.RandomTensor(1, n).Span.ToArray();
        var output = new float[n];

        BatchNormKernels.Normalize(x, 0.3f, 1.7f, 0.9f, -0.2f, output);

        for (int i = 0; i < n; i++)
        {
            float h = (x[i] - 0.3f) * 1.7f;
            Assert.Equal(BitConverter.SingleToInt32Bits(0.9f * h + -0.2f), BitConverter.SingleToInt32Bits(output[i]));
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Standardize_AnySize_RecomputesTheNormalizedValuesOfNormalize(int n)
    {
        var x = LayerHarness.RandomTensor(2, n).Span.ToArray();
        var normalized = new float[n];
        var output = new float[n];

        BatchNormKernels.Standardize(x, -0.4f, 2.3f, normalized);
        BatchNormKernels.Normalize(x, -0.4f, 2.3f, 1.1f, 0.5f, output);

        for (int i = 0; i < n; i++)
        {
            Assert.Equal((x[i] - -0.4f) * 2.3f, normalized[i]);
            Assert.Equal(1.1f * normalized[i] + 0.5f, output[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void InputGradient_AnySize_MatchesScalarFormulaBitForBit(int n)
    {
        var dy = LayerHarness.RandomTensor(3, n).Span.ToArray();
        var normalized = LayerHarness.RandomTensor(4, n).Span.ToArray();
        var dx = new float[n];

        BatchNormKernels.InputGradient(dy, normalized, 0.7f, 0.05f, -0.3f, dx);

        for (int i = 0; i < n; i++)
        {
            float expected = 0.7f * (dy[i] - 0.05f - normalized[i] * -0.3f);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(dx[i]));
        }
    }

    // The one-pass row of a batch norm + ReLU backward against the passes it replaces: Standardize, Normalize
    // and max(y, 0), the ReLU's mask, and OrderedSum's Sum and Dot. β near 0 makes about half the mask zero.
    [Theory]
    [MemberData(nameof(Sizes))]
    [InlineData(16)]
    [InlineData(784)]
    public void MaskedGradientSums_AnySize_MatchesThePassesApartBitForBit(int n)
    {
        var x = LayerHarness.RandomTensor(5, n).Span.ToArray();
        var dy = LayerHarness.RandomTensor(6, n).Span.ToArray();
        const float mean = 0.1f;
        const float inverseStd = 1.3f;
        const float gamma = 0.8f;
        const float beta = 0.05f;
        var normalized = new float[n];
        var masked = new float[n];

        BatchNormKernels.MaskedGradientSums(
            x, dy, mean, inverseStd, gamma, beta, normalized, masked, out float sum, out float dot);

        var expectedNormalized = new float[n];
        var output = new float[n];
        var expectedMasked = new float[n];
        BatchNormKernels.Standardize(x, mean, inverseStd, expectedNormalized);
        BatchNormKernels.Normalize(x, mean, inverseStd, gamma, beta, output);
        for (int i = 0; i < n; i++)
        {
            output[i] = MathF.Max(output[i], 0f);
            expectedMasked[i] = output[i] > 0f ? dy[i] : 0f * dy[i];
        }

        Assert.Equal(Bits(expectedNormalized), Bits(normalized));
        Assert.Equal(Bits(expectedMasked), Bits(masked));
        Assert.Equal(
            BitConverter.SingleToInt32Bits(OrderedSum.Sum(expectedMasked)), BitConverter.SingleToInt32Bits(sum));
        Assert.Equal(
            BitConverter.SingleToInt32Bits(OrderedSum.Dot(expectedMasked, expectedNormalized)),
            BitConverter.SingleToInt32Bits(dot));
        Assert.True(n < 16 || masked.Contains(0f), "the data must exercise the mask");
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
