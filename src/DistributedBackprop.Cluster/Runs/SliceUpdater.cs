using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>
/// A shard's update of its slice, in the order one process updates the whole vector: chunked sums of squares
/// for the global norm, clipping by that norm, clipping by value, then the optimizer (all Core functions,
/// element-wise or chunk-aligned, so slicing changes no bit).
/// </summary>
internal sealed class SliceUpdater
{
    private readonly ParameterLayout _layout;
    private readonly ShardRange _range;
    private readonly Optimizer _optimizer;
    private readonly float _clipNorm;
    private readonly float _clipValue;

    public SliceUpdater(RunSpec spec, ParameterLayout layout, ShardRange range)
    {
        _layout = layout;
        _range = range;
        _optimizer = Optimizer.Create(RunSettings.Optimizer(spec), layout, range.Start, range.End);
        _clipNorm = spec.HasClipNorm ? spec.ClipNorm : 0f;
        _clipValue = spec.HasClipValue ? spec.ClipValue : 0f;
    }

    /// <summary>gradient: the slice's reduced gradient; returns one sum per 4096-float chunk.</summary>
    public double[] ChunkSumsOfSquares(ReadOnlySpan<float> gradient) =>
        GradientNorm.ChunkSumsOfSquares(_layout, gradient, _range.Start);

    /// <param name="globalStep">0-based; the optimizer counts updates from 1.</param>
    public void Apply(Span<float> parameters, Span<float> gradient, float learningRate, double globalNorm, long globalStep)
    {
        if (_clipNorm > 0f)
        {
            GradientClipping.ClipByGlobalNorm(_layout, gradient, _range.Start, globalNorm, _clipNorm);
        }

        if (_clipValue > 0f)
        {
            GradientClipping.ClipByValue(_layout, gradient, _range.Start, _clipValue);
        }

        _optimizer.Step(parameters, gradient, learningRate, globalStep + 1);
    }
}
