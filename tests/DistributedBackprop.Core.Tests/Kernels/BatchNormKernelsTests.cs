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
}
