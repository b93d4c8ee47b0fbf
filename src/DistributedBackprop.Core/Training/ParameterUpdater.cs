using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Training;

/// <summary>
/// Turns a step's reduced gradient into new parameters for one contiguous slice [Start, End) of the flat vector:
/// value clipping, global-norm clipping, learning-rate schedule and optimizer. The single-process trainer owns
/// one over the whole vector; each parameter-server shard owns one over its slice. Since every operation here is
/// element-wise, or uses the global norm computed from fixed 4096-element chunks, slices give the same bits as
/// the whole.
/// </summary>
/// <remarks>
/// Per step: <see cref="PrepareGradient"/> (clip by value, then chunk sums of squares for the global norm), then,
/// once the caller has combined every slice's chunk sums in chunk order, <see cref="Apply"/>.
/// </remarks>
public sealed class ParameterUpdater
{
    private readonly ParameterLayout _layout;
    private readonly TrainingOptions _options;
    private readonly LearningRateSchedule _schedule;

    /// <param name="start">First element of the slice; a multiple of <see cref="GradientNorm.ChunkSize"/>.</param>
    public ParameterUpdater(ParameterLayout layout, TrainingOptions options, int stepsPerEpoch, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(options);
        if (start % GradientNorm.ChunkSize != 0 || start < 0 || end > layout.Count || start > end)
        {
            throw new ArgumentOutOfRangeException(
                nameof(start),
                $"Slice [{start}, {end}) must lie in [0, {layout.Count}) and start on a multiple of " +
                $"{GradientNorm.ChunkSize}.");
        }

        _layout = layout;
        _options = options;
        _schedule = new LearningRateSchedule(options.ScheduleFor(stepsPerEpoch));
        Start = start;
        End = end;
        Optimizer = Optimizer.Create(options.Optimizer, layout, start, end);
        ChunkSums = new double[GradientNorm.ChunkCount(end - start)];
    }

    public int Start { get; }

    public int End { get; }

    public Optimizer Optimizer { get; }

    /// <summary>The slice's chunk sums of squares from the last <see cref="PrepareGradient"/>; reused.</summary>
    public double[] ChunkSums { get; }

    /// <summary>The learning rate of a 0-based global step.</summary>
    public float LearningRateAt(long step) => _schedule.LearningRateAt(step);

    /// <summary>Clips the slice's gradient by value (if on), then fills <see cref="ChunkSums"/>.</summary>
    public double[] PrepareGradient(Span<float> gradientSlice)
    {
        if (_options.ClipValue > 0)
        {
            GradientClipping.ClipByValue(_layout, gradientSlice, Start, _options.ClipValue);
        }

        GradientNorm.ChunkSumsOfSquares(_layout, gradientSlice, Start, ChunkSums);
        return ChunkSums;
    }

    /// <summary>Clips by the global norm (if on) and applies the optimizer for 0-based global step
    /// <paramref name="step"/>.</summary>
    /// <param name="globalNorm">sqrt of every slice's chunk sums combined in chunk order.</param>
    public void Apply(Span<float> parameterSlice, Span<float> gradientSlice, long step, double globalNorm)
    {
        if (_options.ClipNorm > 0)
        {
            GradientClipping.ClipByGlobalNorm(_layout, gradientSlice, Start, globalNorm, _options.ClipNorm);
        }

        Optimizer.Step(parameterSlice, gradientSlice, _schedule.LearningRateAt(step), step + 1);
    }
}
