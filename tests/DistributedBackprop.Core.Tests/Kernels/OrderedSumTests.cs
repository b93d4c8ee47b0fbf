using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class OrderedSumTests
{
    public static TheoryData<int> Lengths => [0, 1, 7, 15, 16, 17, 33, 257, 1000];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sum_OddLengths_BitIdenticalToScalarReference(int length)
    {
        var values = RandomValues(length, 1);

        Assert.Equal(OrderedSum.SumReference(values), OrderedSum.Sum(values));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sum_AnyOffsetInMemory_SameBitsAsACopyAtAnotherOffset(int length)
    {
        var values = RandomValues(length + 3, 2);
        var shifted = new float[length + 5];
        values.AsSpan(3, length).CopyTo(shifted.AsSpan(5));

        Assert.Equal(OrderedSum.Sum(values.AsSpan(3, length)), OrderedSum.Sum(shifted.AsSpan(5, length)));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sum_OddLengths_MatchesDoubleSumWithinFloatRounding(int length)
    {
        var values = RandomValues(length, 3);
        double expected = values.Sum(v => (double)v);
        double bound = 1e-6 * values.Sum(v => Math.Abs((double)v)) + 1e-12;

        Assert.InRange(OrderedSum.Sum(values), expected - bound, expected + bound);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Dot_OddLengths_MatchesLaneDefinitionAndDoubleReference(int length)
    {
        var a = RandomValues(length, 4);
        var b = RandomValues(length, 5);
        var products = a.Zip(b, (x, y) => x * y).ToArray();
        double expected = a.Zip(b, (x, y) => (double)x * y).Sum();
        double bound = 1e-6 * a.Zip(b, (x, y) => Math.Abs((double)x * y)).Sum() + 1e-12;

        float dot = OrderedSum.Dot(a, b);

        Assert.Equal(OrderedSum.SumReference(products), dot);
        Assert.InRange(dot, expected - bound, expected + bound);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SumOfSquaredDeviations_OddLengths_MatchesLaneDefinition(int length)
    {
        var values = RandomValues(length, 6);
        const float center = 0.25f;
        var squares = values.Select(v => (v - center) * (v - center)).ToArray();

        Assert.Equal(OrderedSum.SumReference(squares), OrderedSum.SumOfSquaredDeviations(values, center));
    }

    private static float[] RandomValues(int length, ulong seed)
    {
        var random = new DeterministicRandom(seed, 0);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)random.NextGaussian();
        }

        return values;
    }
}
