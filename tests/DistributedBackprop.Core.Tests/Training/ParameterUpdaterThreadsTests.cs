using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tests.Optimizers;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Core.Tests.Training;

/// <summary>
/// With more than one thread the updater clips, takes the chunk sums of squares and steps the optimizer on
/// pieces of whole chunks shared among the threads: the parameters, the optimizer state and the chunk sums must
/// be those of one thread, bit for bit.
/// </summary>
public sealed class ParameterUpdaterThreadsTests
{
    public static TheoryData<string> Configurations => OptimizerTestData.ConfigurationNames;

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Apply_TwoOrThreeThreads_SameBitsAsOneThread(string configuration)
    {
        var settings = OptimizerTestData.Configuration(configuration);
        var layout = Layout();
        var expected = Run(settings, layout, threads: 1);

        foreach (int threads in new[] { 2, 3 })
        {
            var actual = Run(settings, layout, threads);
            Assert.Equal(expected.Parameters, actual.Parameters);
            Assert.Equal(expected.State, actual.State);
            Assert.Equal(expected.ChunkSums, actual.ChunkSums);
        }
    }

    [Fact]
    public void Apply_GradientOfAnotherLength_IsRefusedOnSeveralThreads()
    {
        var layout = Layout();
        var updater = new ParameterUpdater(layout, new TrainingOptions { Threads = 2 }, 100, 0, layout.Count);

        Assert.Throws<ArgumentException>(
            () => updater.Apply(new float[layout.Count], new float[layout.Count - 1], 0, 1.0));
    }

    // About 54,000 elements: four 16,384-element pieces, the last one short, with segments of every kind that
    // straddle piece and chunk boundaries.
    private static ParameterLayout Layout()
    {
        var builder = new ParameterLayoutBuilder();
        builder.Add("dense0.weight", ParameterKind.Weight, 301, 149);
        builder.Add("dense0.bias", ParameterKind.Bias, 301);
        builder.Add("norm0.runningMean", ParameterKind.RunningStatistic, 0.1f, 77);
        builder.Add("norm0.runningVariance", ParameterKind.RunningStatistic, 0.01f, 77);
        builder.Add("dense1.weight", ParameterKind.Weight, 97, 89);
        builder.Add("dense1.bias", ParameterKind.Bias, 97);
        return builder.Build();
    }

    // Four steps with value clipping and global-norm clipping (the norm of the clipped values is about 150).
    private static (int[] Parameters, int[] State, long[] ChunkSums) Run(
        OptimizerSettings settings,
        ParameterLayout layout,
        int threads)
    {
        var options = new TrainingOptions
        {
            Optimizer = settings,
            Threads = threads,
            ClipValue = 0.8f,
            ClipNorm = 20f,
        };
        var updater = new ParameterUpdater(layout, options, 100, 0, layout.Count);
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 7);
        var chunkSums = new List<long>();
        for (int step = 0; step < 4; step++)
        {
            var gradient = OptimizerTestData.Gaussian(layout.Count, stream: 100UL + (ulong)step);
            var sums = updater.PrepareGradient(gradient);
            chunkSums.AddRange(sums.Select(BitConverter.DoubleToInt64Bits));
            updater.Apply(parameters, gradient, step, Math.Sqrt(GradientNorm.Combine(sums)));
        }

        return (
            OptimizerTestData.Bits(parameters),
            OptimizerTestData.Bits(updater.Optimizer.GetState()),
            [.. chunkSums]);
    }
}
