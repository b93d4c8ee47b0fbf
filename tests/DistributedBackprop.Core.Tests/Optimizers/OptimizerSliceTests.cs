using DistributedBackprop.Core.Optimizers;

namespace DistributedBackprop.Core.Tests.Optimizers;

/// <summary>
/// A parameter-server shard updates its slice alone: slices must reproduce the whole-vector update bit for
/// bit. The odd boundaries put each element in a different vector lane, or in the scalar tail, depending on
/// the slicing, so these tests also pin the vector and scalar paths to the same arithmetic.
/// </summary>
public sealed class OptimizerSliceTests
{
    private static readonly int[] Boundaries = [0, 7, 33, 1000, 5000];

    public static TheoryData<string> Configurations => OptimizerTestData.ConfigurationNames;

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Step_OddSlices_EqualWholeVectorBitForBit(string configuration)
    {
        var settings = OptimizerTestData.Configuration(configuration);
        var layout = OptimizerTestData.Mixed();
        var whole = OptimizerTestData.Gaussian(layout.Count, stream: 30);
        var sliced = whole.ToArray();
        var wholeOptimizer = Optimizer.Create(settings, layout, 0, layout.Count);
        var sliceOptimizers = Boundaries.Zip(Boundaries.Skip(1))
            .Select(b => Optimizer.Create(settings, layout, b.First, b.Second))
            .ToArray();

        for (int step = 1; step <= 4; step++)
        {
            var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 40UL + (ulong)step, scale: 0.3f);
            float learningRate = 0.02f / step;
            wholeOptimizer.Step(whole, gradients, learningRate, step);
            foreach (var shard in sliceOptimizers)
            {
                // Each shard sees copies, as it would after a network transfer: memory alignment differs too.
                var parameters = sliced.AsSpan(shard.Start, shard.Length).ToArray();
                shard.Step(parameters, gradients.AsSpan(shard.Start, shard.Length), learningRate, step);
                parameters.CopyTo(sliced, shard.Start);
            }

            Assert.Equal(OptimizerTestData.Bits(whole), OptimizerTestData.Bits(sliced));
        }

        Assert.Equal(OptimizerTestData.Bits(WholeStateOf(wholeOptimizer)), ConcatenatedStateBits(sliceOptimizers));
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void SetState_FromAnotherInstance_ContinuesBitForBit(string configuration)
    {
        var settings = OptimizerTestData.Configuration(configuration);
        var layout = OptimizerTestData.Mixed();
        var original = Optimizer.Create(settings, layout, 33, 1000);
        var parameters = OptimizerTestData.Gaussian(original.Length, stream: 50);
        for (int step = 1; step <= 2; step++)
        {
            var earlier = OptimizerTestData.Gaussian(original.Length, stream: 51UL + (ulong)step);
            original.Step(parameters, earlier, 0.01f, step);
        }

        var restored = Optimizer.Create(settings, layout, 33, 1000);
        restored.SetState(original.GetState());
        var restoredParameters = parameters.ToArray();
        var gradients = OptimizerTestData.Gaussian(original.Length, stream: 60);
        original.Step(parameters, gradients, 0.01f, 3);
        restored.Step(restoredParameters, gradients, 0.01f, 3);

        Assert.Equal(original.StateBufferNames.Count * original.Length, original.StateLength);
        Assert.Equal(OptimizerTestData.Bits(parameters), OptimizerTestData.Bits(restoredParameters));
        Assert.Equal(OptimizerTestData.Bits(original.GetState()), OptimizerTestData.Bits(restored.GetState()));
    }

    [Fact]
    public void SetState_WrongLength_ThrowsNamingExpectedLength()
    {
        var optimizer = Optimizer.Create(new OptimizerSettings(OptimizerKind.Adam), OptimizerTestData.Mixed(), 0, 10);

        var exception = Assert.Throws<ArgumentException>(() => optimizer.SetState(new float[19]));

        Assert.Contains("needs 20", exception.Message, StringComparison.Ordinal);
    }

    // The whole optimizer's state, buffer by buffer, cut at the slice boundaries and re-joined in the order
    // the slices hold it: for each slice, its part of every buffer.
    private static float[] WholeStateOf(Optimizer whole)
    {
        var state = whole.GetState();
        var reordered = new List<float>();
        foreach (var (start, end) in Boundaries.Zip(Boundaries.Skip(1)))
        {
            for (int buffer = 0; buffer < whole.StateBufferNames.Count; buffer++)
            {
                reordered.AddRange(state[(buffer * whole.Length + start)..(buffer * whole.Length + end)]);
            }
        }

        return [.. reordered];
    }

    private static int[] ConcatenatedStateBits(Optimizer[] slices) =>
        OptimizerTestData.Bits(slices.SelectMany(s => s.GetState()).ToArray());
}
