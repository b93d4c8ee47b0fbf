using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class InitializerTests
{
    private const int Count = 200_000;

    [Theory]
    [InlineData(InitKind.HeNormal, 50, 10)]
    [InlineData(InitKind.HeUniform, 50, 10)]
    [InlineData(InitKind.XavierNormal, 30, 90)]
    [InlineData(InitKind.XavierUniform, 30, 90)]
    [InlineData(InitKind.FanInUniform, 75, 10)]
    public void Fill_LargeSample_MeanAndStdMatchTheory(InitKind kind, int fanIn, int fanOut)
    {
        var values = new float[Count];

        Initializers.Fill(values, kind, fanIn, fanOut, new DeterministicRandom(123));

        // Uniform on [-b, b) has variance b²/3; fan-in uniform has b = 1/√fanIn.
        double expectedStd = kind switch
        {
            InitKind.HeNormal or InitKind.HeUniform => Math.Sqrt(2.0 / fanIn),
            InitKind.FanInUniform => Math.Sqrt(1.0 / (3.0 * fanIn)),
            _ => Math.Sqrt(2.0 / (fanIn + fanOut)),
        };
        double mean = values.Average(v => (double)v);
        double std = Math.Sqrt(values.Average(v => ((double)v - mean) * ((double)v - mean)));

        // Standard error of the mean is std/√N ≈ 0.0022·std, of the std about 0.0016·std: allow ~5 of each.
        Assert.True(Math.Abs(mean) < 0.012 * expectedStd, $"mean {mean}, std {expectedStd}");
        Assert.True(Math.Abs(std / expectedStd - 1) < 0.01, $"std {std}, expected {expectedStd}");
    }

    [Theory]
    [InlineData(InitKind.HeUniform, 50, 10, 0.34641016)]
    [InlineData(InitKind.XavierUniform, 30, 90, 0.22360680)]
    [InlineData(InitKind.FanInUniform, 9, 288, 0.33333333)]
    public void Fill_Uniform_StaysWithinBoundAndReachesNearIt(InitKind kind, int fanIn, int fanOut, double bound)
    {
        var values = new float[Count];

        Initializers.Fill(values, kind, fanIn, fanOut, new DeterministicRandom(7));

        Assert.All(values, v => Assert.InRange(v, -bound, bound));
        Assert.True(values.Max() > 0.999 * bound && values.Min() < -0.999 * bound);
    }

    [Fact]
    public void Fill_SameSeed_SameValues_OtherSeed_OtherValues()
    {
        var first = new float[100];
        var again = new float[100];
        var other = new float[100];

        Initializers.Fill(first, InitKind.HeNormal, 10, 10, new DeterministicRandom(5, 40));
        Initializers.Fill(again, InitKind.HeNormal, 10, 10, new DeterministicRandom(5, 40));
        Initializers.Fill(other, InitKind.HeNormal, 10, 10, new DeterministicRandom(6, 40));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Theory]
    [InlineData(InitKind.HeNormal)]
    [InlineData(InitKind.XavierUniform)]
    [InlineData(InitKind.Zeros)]
    public void FillBias_OtherThanFanInUniform_Zeros(InitKind kind)
    {
        float[] values = [1, 2, 3];

        Initializers.FillBias(values, kind, 4, new DeterministicRandom(1));

        Assert.Equal([0f, 0f, 0f], values);
    }

    [Fact]
    public void FillBias_FanInUniform_DrawsWithinTheWeightsBound()
    {
        var values = new float[Count];

        Initializers.FillBias(values, InitKind.FanInUniform, 16, new DeterministicRandom(3));

        Assert.All(values, v => Assert.InRange(v, -0.25f, 0.25f));
        Assert.True(values.Max() > 0.2497f && values.Min() < -0.2497f);
    }

    [Fact]
    public void Fill_Zeros_ClearsValues()
    {
        float[] values = [1, 2, 3];

        Initializers.Fill(values, InitKind.Zeros, 1, 1, new DeterministicRandom(1));

        Assert.Equal([0f, 0f, 0f], values);
    }

    [Fact]
    public void Fill_NonPositiveFanIn_ThrowsNamingFanIn()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Initializers.Fill(new float[4], InitKind.HeNormal, 0, 3, new DeterministicRandom(1)));

        Assert.Equal("fanIn", error.ParamName);
    }
}
