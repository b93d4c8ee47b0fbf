using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// Updates one contiguous slice [<see cref="Start"/>, <see cref="End"/>) of a model's flat parameter vector
/// and owns that slice's optimizer state, so a parameter-server shard can update its slice on its own.
/// </summary>
/// <remarks>
/// Every update is element-wise: an element's new value depends only on its own parameter, gradient and
/// state, its segment's kind, the learning rate and the step. The vector and scalar paths of each kernel
/// apply the same float operations in the same order (no fused multiply-add), so updating a vector slice by
/// slice gives the same bits as updating it whole, wherever the slice boundaries fall. Not thread-safe; a
/// steady-state <see cref="Step"/> allocates nothing.
/// </remarks>
public abstract class Optimizer
{
    private readonly Run[] _runs;
    private readonly float[] _state;

    private protected Optimizer(
        OptimizerSettings settings,
        ParameterLayout layout,
        int start,
        int end,
        IReadOnlyList<string> stateBufferNames)
    {
        Settings = settings;
        Start = start;
        End = end;
        StateBufferNames = stateBufferNames;
        _runs = layout.Overlapping(start, end)
            .Select(o => new Run(o.Start - start, o.End - start, o.Segment.Kind, o.Segment.Momentum))
            .ToArray();
        _state = new float[stateBufferNames.Count * Length];
    }

    public OptimizerSettings Settings { get; }

    /// <summary>First flat index of the slice this optimizer owns.</summary>
    public int Start { get; }

    /// <summary>One past the last flat index of the slice.</summary>
    public int End { get; }

    public int Length => End - Start;

    /// <summary>
    /// Names of the state buffers, in the order they appear in <see cref="GetState"/>. Each buffer has
    /// <see cref="Length"/> floats, element i belonging to flat index <see cref="Start"/> + i, so a checkpoint
    /// can be re-sliced for a different sharding buffer by buffer.
    /// </summary>
    public IReadOnlyList<string> StateBufferNames { get; }

    /// <summary>Floats in the flat state: buffer count × <see cref="Length"/>.</summary>
    public int StateLength => _state.Length;

    /// <summary>
    /// Creates the optimizer of <paramref name="settings"/> for the slice [start, end) of
    /// <paramref name="layout"/>, with zeroed state.
    /// </summary>
    /// <exception cref="ArgumentException">The settings are invalid (all problems are listed), or a running
    /// statistic in the slice has a momentum outside [0, 1].</exception>
    /// <exception cref="ArgumentOutOfRangeException">[start, end) is not inside [0, layout.Count).</exception>
    public static Optimizer Create(OptimizerSettings settings, ParameterLayout layout, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(layout);
        settings.ThrowIfInvalid();
        if (start < 0 || end > layout.Count || start > end)
        {
            throw new ArgumentOutOfRangeException(
                nameof(start),
                $"The slice [{start}, {end}) must lie inside the layout's [0, {layout.Count}) with start <= end.");
        }

        foreach (var (segment, _, _) in layout.Overlapping(start, end))
        {
            if (segment.Kind == ParameterKind.RunningStatistic && !(segment.Momentum >= 0f && segment.Momentum <= 1f))
            {
                throw new ArgumentException(
                    $"Running statistic '{segment.Name}' has momentum {segment.Momentum}; it must be in [0, 1].");
            }
        }

        return settings.Kind switch
        {
            OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov =>
                new Sgd(settings, layout, start, end),
            OptimizerKind.RmsProp => new RmsProp(settings, layout, start, end),
            OptimizerKind.Adam => new Adam(settings, layout, start, end),
            OptimizerKind.AdamW => new AdamW(settings, layout, start, end),
            _ => throw new ArgumentException($"Unknown optimizer kind {settings.Kind}.", nameof(settings)),
        };
    }

    /// <summary>
    /// Applies one update to the slice. Trained elements follow the optimizer's rule; running statistics
    /// become (1 - momentum)·value + momentum·gradient, where their gradient slot holds the reduced statistic.
    /// </summary>
    /// <param name="parameters">The slice's parameters, length <see cref="Length"/>, updated in place.</param>
    /// <param name="gradients">The slice's reduced gradients, length <see cref="Length"/>.</param>
    /// <param name="learningRate">This step's learning rate (from the schedule), finite and &gt;= 0.</param>
    /// <param name="step">1-based number of this update, for Adam's bias correction.</param>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, long step)
    {
        ThrowIfInvalidStep(parameters.Length, gradients.Length, learningRate, step);
        StepRange(parameters, gradients, 0, Length, learningRate, step);
    }

    /// <summary>The checks of <see cref="Step"/>, for callers that update the slice in pieces.</summary>
    internal void ThrowIfInvalidStep(int parametersLength, int gradientsLength, float learningRate, long step)
    {
        if (parametersLength != Length || gradientsLength != Length)
        {
            throw new ArgumentException(
                $"parameters ({parametersLength}) and gradients ({gradientsLength}) must both have the slice's "
                + $"length {Length}.");
        }

        if (!(learningRate >= 0f) || !float.IsFinite(learningRate))
        {
            throw new ArgumentOutOfRangeException(
                nameof(learningRate), $"learningRate must be >= 0 and finite, got {learningRate}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1L);
    }

    /// <summary>
    /// As <see cref="Step"/> for the elements [from, to) of the slice only (offsets within the slice); arguments
    /// already checked. Every element is updated from its own gradient and state alone, so pieces updated apart,
    /// on any threads, give the bits of one call over the whole slice.
    /// </summary>
    internal void StepRange(
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        int from,
        int to,
        float learningRate,
        long step)
    {
        foreach (var whole in _runs)
        {
            var run = whole with { Start = Math.Max(whole.Start, from), End = Math.Min(whole.End, to) };
            if (run.Start >= run.End)
            {
                continue;
            }

            var runParameters = parameters[run.Start..run.End];
            var runGradients = gradients[run.Start..run.End];
            switch (run.Kind)
            {
                case ParameterKind.RunningStatistic:
                    RunningStatisticUpdate.Apply(runParameters, runGradients, run.Momentum);
                    break;
                default:
                    float decay = run.Kind == ParameterKind.Weight ? Settings.WeightDecay : 0f;
                    UpdateRun(run.Start, runParameters, runGradients, decay, learningRate, step);
                    break;
            }
        }
    }

    /// <summary>A copy of the state buffers, concatenated in <see cref="StateBufferNames"/> order.</summary>
    public float[] GetState() => (float[])_state.Clone();

    /// <summary>Replaces the state, e.g. from a checkpoint; the layout is that of <see cref="GetState"/>.</summary>
    public void SetState(ReadOnlySpan<float> state)
    {
        if (state.Length != _state.Length)
        {
            throw new ArgumentException(
                $"state has {state.Length} floats; this optimizer needs {_state.Length} "
                + $"({StateBufferNames.Count} buffers of {Length}).",
                nameof(state));
        }

        state.CopyTo(_state);
    }

    /// <summary>
    /// Updates the trained elements [offset, offset + parameters.Length) of the slice.
    /// </summary>
    /// <param name="offset">Position of the run inside the slice, to find its state.</param>
    /// <param name="weightDecay">The settings' weight decay for weights, 0 for biases.</param>
    private protected abstract void UpdateRun(
        int offset,
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        float weightDecay,
        float learningRate,
        long step);

    /// <summary>The part of state buffer <paramref name="buffer"/> that belongs to a run.</summary>
    private protected Span<float> StateOf(int buffer, int offset, int length) =>
        _state.AsSpan(buffer * Length + offset, length);

    // A maximal piece of the slice inside one segment; offsets relative to the slice start.
    private readonly record struct Run(int Start, int End, ParameterKind Kind, float Momentum);
}
