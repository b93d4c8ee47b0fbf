using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Tests.Optimizers;

/// <summary>A parameter shard runs norm, clipping and update every step; none of them may allocate.</summary>
public sealed class AllocationTests
{
    public static TheoryData<string> Configurations => OptimizerTestData.ConfigurationNames;

    [Theory]
    [MemberData(nameof(Configurations))]
    public void SteadyStateStep_NormClipAndUpdate_AllocateNothing(string configuration)
    {
        var layout = OptimizerTestData.Mixed();
        var optimizer = Optimizer.Create(OptimizerTestData.Configuration(configuration), layout, 0, layout.Count);
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 90);
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 91);
        var chunkSums = new double[GradientNorm.ChunkCount(layout.Count)];
        RunStep(optimizer, layout, parameters, gradients, chunkSums, step: 1);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 2; step <= 4; step++)
        {
            RunStep(optimizer, layout, parameters, gradients, chunkSums, step);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RunStep(
        Optimizer optimizer,
        ParameterLayout layout,
        float[] parameters,
        float[] gradients,
        double[] chunkSums,
        int step)
    {
        GradientNorm.ChunkSumsOfSquares(layout, gradients, 0, chunkSums);
        double norm = Math.Sqrt(GradientNorm.Combine(chunkSums.AsSpan()));
        GradientClipping.ClipByGlobalNorm(layout, gradients, 0, norm, maxNorm: norm / 2);
        GradientClipping.ClipByValue(layout, gradients, 0, maxValue: 0.5f);
        optimizer.Step(parameters, gradients, 0.01f, step);
    }
}
