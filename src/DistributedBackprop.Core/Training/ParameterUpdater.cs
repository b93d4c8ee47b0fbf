using DistributedBackprop.Core.Kernels;
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
/// once the caller has combined every slice's chunk sums in chunk order, <see cref="Apply"/>. With
/// <see cref="TrainingOptions.Threads"/> above 1 both run on pieces of whole chunks shared among the threads,
/// which gives the same bits for the same reason.
/// </remarks>
public sealed unsafe class ParameterUpdater
{
    // What the threads share: runs of whole pieces, each a multiple of the norm's chunks.
    private const int PieceElements = 4 * GradientNorm.ChunkSize;

    private readonly ParameterLayout _layout;
    private readonly TrainingOptions _options;
    private readonly LearningRateSchedule _schedule;
    private readonly Action<int, int, int> _prepareRange;
    private readonly Action<int, int, int> _applyRange;

    // The slices of the call in progress, for the threads' ranges (spans cannot be kept in fields).
    private float* _gradient;
    private float* _parameters;
    private float _learningRate;
    private long _optimizerStep;
    private double _globalNorm;

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
        _prepareRange = PrepareRange;
        _applyRange = ApplyRange;
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
        ThrowIfNotSliceLength(gradientSlice.Length, nameof(gradientSlice));
        fixed (float* gradient = gradientSlice)
        {
            _gradient = gradient;
            try
            {
                ParallelRanges.For(Pieces, _options.Threads, _prepareRange);
            }
            finally
            {
                _gradient = null;
            }
        }

        return ChunkSums;
    }

    /// <summary>Clips by the global norm (if on) and applies the optimizer for 0-based global step
    /// <paramref name="step"/>.</summary>
    /// <param name="globalNorm">sqrt of every slice's chunk sums combined in chunk order.</param>
    public void Apply(Span<float> parameterSlice, Span<float> gradientSlice, long step, double globalNorm)
    {
        float learningRate = _schedule.LearningRateAt(step);
        Optimizer.ThrowIfInvalidStep(parameterSlice.Length, gradientSlice.Length, learningRate, step + 1);
        fixed (float* parameters = parameterSlice, gradient = gradientSlice)
        {
            _parameters = parameters;
            _gradient = gradient;
            (_learningRate, _optimizerStep, _globalNorm) = (learningRate, step + 1, globalNorm);
            try
            {
                ParallelRanges.For(Pieces, _options.Threads, _applyRange);
            }
            finally
            {
                _parameters = null;
                _gradient = null;
            }
        }
    }

    private int Length => End - Start;

    // ParallelRanges gives each thread a run of whole pieces; one piece, or one thread, runs inline.
    private int Pieces => (Length + PieceElements - 1) / PieceElements;

    private void ThrowIfNotSliceLength(int length, string name)
    {
        if (length != Length)
        {
            throw new ArgumentException(
                $"{name} has {length} elements; this updater's slice [{Start}, {End}) has {Length}.", name);
        }
    }

    private void PrepareRange(int worker, int firstPiece, int endPiece)
    {
        int from = firstPiece * PieceElements;
        int to = Math.Min(Length, endPiece * PieceElements);
        var piece = new Span<float>(_gradient + from, to - from);
        if (_options.ClipValue > 0)
        {
            GradientClipping.ClipByValue(_layout, piece, Start + from, _options.ClipValue);
        }

        var sums = ChunkSums.AsSpan(from / GradientNorm.ChunkSize, GradientNorm.ChunkCount(to - from));
        GradientNorm.ChunkSumsOfSquares(_layout, piece, Start + from, sums);
    }

    private void ApplyRange(int worker, int firstPiece, int endPiece)
    {
        int from = firstPiece * PieceElements;
        int to = Math.Min(Length, endPiece * PieceElements);
        var gradient = new Span<float>(_gradient, Length);
        if (_options.ClipNorm > 0)
        {
            GradientClipping.ClipByGlobalNorm(
                _layout, gradient[from..to], Start + from, _globalNorm, _options.ClipNorm);
        }

        Optimizer.StepRange(new Span<float>(_parameters, Length), gradient, from, to, _learningRate, _optimizerStep);
    }
}
