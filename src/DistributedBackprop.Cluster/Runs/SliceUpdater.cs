using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>A shard's update rule for its slice: chunked gradient norm, clipping, optimizer step.</summary>
/// <remarks>Scaffold: plain SGD until the Core optimizers land.</remarks>
internal sealed class SliceUpdater
{
    private readonly ShardRange _range;
    private readonly float _clipNorm;

    public SliceUpdater(RunSpec spec, ParameterLayout layout, ShardRange range)
    {
        _ = layout;
        _range = range;
        _clipNorm = spec.HasClipNorm ? spec.ClipNorm : 0f;
    }

    public double[] ChunkSumsOfSquares(ReadOnlySpan<float> gradient)
    {
        _ = _range;
        var sums = new double[(gradient.Length + RunPlan.ShardAlignment - 1) / RunPlan.ShardAlignment];
        for (int i = 0; i < gradient.Length; i++)
        {
            sums[i / RunPlan.ShardAlignment] += (double)gradient[i] * gradient[i];
        }

        return sums;
    }

    public void Apply(Span<float> parameters, Span<float> gradient, float learningRate, double globalNorm, long step)
    {
        _ = step;
        _ = _range;
        float scale = _clipNorm > 0 && globalNorm > _clipNorm ? (float)(_clipNorm / (globalNorm + 1e-6)) : 1f;
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] -= learningRate * gradient[i] * scale;
        }
    }

    public static double CombineChunkSums(ReadOnlySpan<double> chunkSums, double total)
    {
        foreach (double sum in chunkSums)
        {
            total += sum;
        }

        return total;
    }

    public static float LearningRateAt(RunSpec spec, long step)
    {
        _ = step;
        return spec.Optimizer?.HasLearningRate == true ? spec.Optimizer.LearningRate : 0.01f;
    }
}
