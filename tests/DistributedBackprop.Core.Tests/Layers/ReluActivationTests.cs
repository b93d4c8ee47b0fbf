using DistributedBackprop.Core.Layers.Internal;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class ReluActivationTests
{
    public static TheoryData<int> Sizes => [1, 7, 8, 9, 16, 17, 35];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Apply_AnySize_MatchesScalarSelectIncludingNaNAndNegativeZero(int n)
    {
        var input = Values(n, seed: 1);
        var output = new float[n];

        ReluActivation.Apply(input, output);

        for (int i = 0; i < n; i++)
        {
            float expected = input[i] < 0f ? 0f : input[i];
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(output[i]));
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Mask_AnySize_MatchesScalarSelect(int n)
    {
        var output = Values(n, seed: 2);
        var gradient = Values(n, seed: 3);
        var inputGradient = new float[n];

        ReluActivation.Mask(output, gradient, inputGradient);

        for (int i = 0; i < n; i++)
        {
            float expected = output[i] > 0f ? gradient[i] : 0f;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(inputGradient[i]));
        }
    }

    // Gaussian values with a NaN, a negative zero and a positive zero mixed in where the size allows.
    private static float[] Values(int n, ulong seed)
    {
        var values = LayerHarness.RandomTensor(seed, n).Span.ToArray();
        int[] special = [0, 3, 10];
        float[] replacements = [float.NaN, -0f, 0f];
        for (int s = 0; s < special.Length; s++)
        {
            if (special[s] < n)
            {
                values[special[s]] = replacements[s];
            }
        }

        return values;
    }
}
