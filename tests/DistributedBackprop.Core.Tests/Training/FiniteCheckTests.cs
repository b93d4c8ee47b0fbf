using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Core.Tests.Training;

public sealed class FiniteCheckTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(257)]
    public void IsFinite_AgreesWithScalarCheck_AtEveryPosition(int length)
    {
        var values = Enumerable.Range(0, length).Select(i => (i * 0.37f) - 3f).ToArray();
        Assert.True(Trainer.IsFinite(values));

        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            for (int position = 0; position < length; position++)
            {
                float saved = values[position];
                values[position] = bad;

                Assert.Equal(values.All(float.IsFinite), Trainer.IsFinite(values));
                Assert.False(Trainer.IsFinite(values));

                values[position] = saved;
            }
        }
    }

    [Fact]
    public void IsFinite_HugeFiniteValues_AreFinite()
    {
        float[] values = [float.MaxValue, -float.MaxValue, float.Epsilon, 0f, -0f];

        Assert.True(Trainer.IsFinite(values));
    }
}
