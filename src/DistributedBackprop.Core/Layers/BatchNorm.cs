using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Layers.Internal;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Batch normalisation (Ioffe &amp; Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by
/// Reducing Internal Covariate Shift"): y = γ·(x − μ)/√(σ² + ε) + β per feature of a rank-1 input, or per
/// channel of a (C, H, W) input with statistics over batch·H·W.
/// </summary>
/// <remarks>
/// Training uses the batch mean and biased variance. The running statistics are not updated here: a training
/// forward writes BatchFraction·mean and BatchFraction·unbiased variance into the gradient slots of
/// <c>running_mean</c> and <c>running_var</c>, and the optimizer applies
/// value = (1 − momentum)·value + momentum·reduced (see <see cref="ParameterKind.RunningStatistic"/>).
/// Evaluation normalises with the running statistics. Statistics are summed per (sample, channel) row in
/// fixed float lanes (<see cref="OrderedSum"/>) and across rows in double in sample order, one channel per
/// worker, so results are bit-identical for any thread count.
/// When a model follows this layer with a <see cref="ReLU"/>, the two are fused (<see cref="LayerFusion"/>): this
/// layer applies max(y, 0) while each row is still in cache and masks the incoming gradient itself (where y,
/// recomputed from x in the same pass as x̂, is positive: the output is not read back), and the ReLU passes
/// tensors through; the bits are those of the two layers apart.
/// </remarks>
public sealed class BatchNorm : Layer
{
    private readonly float _momentum;
    private readonly float _epsilon;
    private readonly TensorBuffer _output = new();
    private readonly TensorBuffer _inputGradient = new();
    private readonly TensorBuffer _maskedGradient = new();
    private readonly Action<int, int, int> _trainingForwardRange;
    private readonly Action<int, int, int> _evaluationForwardRange;
    private readonly Action<int, int, int> _backwardRange;

    private int _channels;

    // Elements per channel per sample: 1 for a rank-1 input, H·W for (C, H, W).
    private int _spatial;
    private ParameterSegment? _gamma;
    private ParameterSegment? _beta;
    private ParameterSegment? _runningMean;
    private ParameterSegment? _runningVariance;
    private float[] _parameters = [];
    private float[] _gradients = [];

    // 1/√(σ² + ε) per channel from the last forward, batch or running statistics as the mode was.
    private double[] _inverseStd = [];

    // The float mean and 1/√(σ² + ε) each channel was normalised with, so backward recomputes the same x̂.
    private float[] _normalizeMean = [];
    private float[] _normalizeScale = [];

    // The γ and β of the last forward, so that a fused ReLU's backward recomputes the same y.
    private float[] _normalizeGamma = [];
    private float[] _normalizeBeta = [];

    // Per worker of a backward: one channel's x̂, (batch, spatial), recomputed from the input.
    private float[][] _normalizedScratch = [];

    // State of the pass in progress, read by the range delegates.
    private Tensor? _input;
    private Tensor? _outputView;
    private Tensor? _outputGradient;
    private Tensor? _inputGradientView;
    private Tensor? _maskedGradientView;
    private float _batchFraction;
    private bool _lastTraining;

    // Whether the ReLU after this layer is fused into it (see the class remarks).
    private bool _reluFused;

    /// <param name="momentum">Weight of the new batch statistic in the running average, in [0, 1].</param>
    /// <param name="epsilon">Added to the variance before the square root; positive.</param>
    public BatchNorm(float momentum = 0.1f, float epsilon = 1e-5f)
    {
        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentException($"BatchNorm momentum must be in [0, 1], got {momentum}.", nameof(momentum));
        }

        if (!(epsilon > 0f) || float.IsInfinity(epsilon))
        {
            throw new ArgumentException($"BatchNorm epsilon must be positive, got {epsilon}.", nameof(epsilon));
        }

        _momentum = momentum;
        _epsilon = epsilon;
        _trainingForwardRange = TrainingForwardRange;
        _evaluationForwardRange = EvaluationForwardRange;
        _backwardRange = BackwardRange;
    }

    public override string Type => "batchnorm";

    public float Momentum => _momentum;

    public float Epsilon => _epsilon;

    /// <summary>Applies the following ReLU here: output max(y, 0), and the gradient masked where it is not
    /// positive. Set once, by <see cref="LayerFusion"/>, when the model is built.</summary>
    internal void FuseRelu() => _reluFused = true;

    public override void Bind(float[] parameters, float[] gradients)
    {
        _parameters = parameters;
        _gradients = gradients;
    }

    /// <summary>γ = 1, β = 0, running mean 0, running variance 1.</summary>
    public override void Initialize(float[] parameters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Slice(parameters, _gamma).Fill(1f);
        Slice(parameters, _beta).Clear();
        Slice(parameters, _runningMean).Clear();
        Slice(parameters, _runningVariance).Fill(1f);
    }

    // input: (batch, F) or (batch, C, H, W) → output: same shape
    public override Tensor Forward(Tensor input, LayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(input, InputShape, Type, nameof(input));

        int batch = input.Shape[0];
        if (context.Training && batch * _spatial < 2)
        {
            throw new ArgumentException(
                $"BatchNorm in training needs more than one value per channel, got batch {batch} of "
                + $"{ShapeUtil.Format(InputShape)}. Use a larger (micro-)batch or evaluation mode.",
                nameof(input));
        }

        var output = _output.Get(batch, OutputShape);
        _input = input;
        _outputView = output;
        _batchFraction = context.BatchFraction;
        _lastTraining = context.Training;

        var range = context.Training ? _trainingForwardRange : _evaluationForwardRange;
        ParallelRanges.For(_channels, context.Threads, range);

        _outputView = null;
        return output;
    }

    // outputGradient: same shape as the output → input gradient: same shape as the input
    public override Tensor? Backward(Tensor outputGradient, LayerContext context, bool needInputGradient)
    {
        ArgumentNullException.ThrowIfNull(context);
        BatchShape.Require(outputGradient, OutputShape, Type, nameof(outputGradient));
        if (_input is null || _input.Shape[0] != outputGradient.Shape[0])
        {
            throw new InvalidOperationException(
                "BatchNorm.Backward needs a Forward on a batch of the same size first.");
        }

        int batch = outputGradient.Shape[0];
        var inputGradient = needInputGradient ? _inputGradient.Get(batch, InputShape) : null;
        _outputGradient = outputGradient;
        _inputGradientView = inputGradient;

        int workers = ParallelRanges.Workers(_channels, context.Threads);
        if (_normalizedScratch.Length < workers || _normalizedScratch[0].Length < batch * _spatial)
        {
            _normalizedScratch = new float[workers][];
            for (int w = 0; w < workers; w++)
            {
                _normalizedScratch[w] = new float[batch * _spatial];
            }
        }

        // The masked gradient is written where the input gradient will go (each row is then rewritten in
        // place), or into a scratch buffer when no input gradient is wanted.
        _maskedGradientView = !_reluFused ? null : inputGradient ?? _maskedGradient.Get(batch, InputShape);

        ParallelRanges.For(_channels, context.Threads, _backwardRange);

        _outputGradient = null;
        _inputGradientView = null;
        _maskedGradientView = null;
        return inputGradient;
    }

    protected override int[] OnBuild(int[] inputShape, ParameterLayoutBuilder parameters)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(parameters);
        if ((inputShape.Length != 1 && inputShape.Length != 3) || inputShape.Any(d => d <= 0))
        {
            throw new ArgumentException(
                $"BatchNorm expects a (features) or (channels, height, width) input shape with positive sizes, got "
                + $"{ShapeUtil.Format(inputShape)}.",
                nameof(inputShape));
        }

        _channels = inputShape[0];
        _spatial = inputShape.Length == 3 ? inputShape[1] * inputShape[2] : 1;
        _inverseStd = new double[_channels];
        _normalizeMean = new float[_channels];
        _normalizeScale = new float[_channels];
        _normalizeGamma = new float[_channels];
        _normalizeBeta = new float[_channels];
        _gamma = parameters.Add("gamma", ParameterKind.Bias, _channels);
        _beta = parameters.Add("beta", ParameterKind.Bias, _channels);
        _runningMean = parameters.Add("running_mean", ParameterKind.RunningStatistic, _momentum, _channels);
        _runningVariance = parameters.Add("running_var", ParameterKind.RunningStatistic, _momentum, _channels);
        return inputShape.ToArray();
    }

    private void TrainingForwardRange(int worker, int first, int end)
    {
        var input = _input!.Span;
        int batch = _input.Shape[0];
        int count = batch * _spatial;
        var meanSlot = Slice(_gradients, _runningMean);
        var varianceSlot = Slice(_gradients, _runningVariance);

        for (int c = first; c < end; c++)
        {
            // Two passes: the mean first, then squared deviations from it; each (sample, channel) row is
            // summed in float lanes (OrderedSum) and the rows are added in double in sample order.
            double sum = 0;
            for (int b = 0; b < batch; b++)
            {
                sum += OrderedSum.Sum(Row(input, b, c));
            }

            double mean = sum / count;
            double squares = 0;
            for (int b = 0; b < batch; b++)
            {
                squares += OrderedSum.SumOfSquaredDeviations(Row(input, b, c), (float)mean);
            }

            double variance = squares / count;
            double inverseStd = 1.0 / Math.Sqrt(variance + _epsilon);
            _inverseStd[c] = inverseStd;
            Normalize(c, mean, inverseStd);

            meanSlot[c] = (float)(_batchFraction * mean);
            varianceSlot[c] = (float)(_batchFraction * squares / (count - 1));
        }
    }

    private void EvaluationForwardRange(int worker, int first, int end)
    {
        var runningMean = Slice(_parameters, _runningMean);
        var runningVariance = Slice(_parameters, _runningVariance);
        for (int c = first; c < end; c++)
        {
            double inverseStd = 1.0 / Math.Sqrt((double)runningVariance[c] + _epsilon);
            _inverseStd[c] = inverseStd;
            Normalize(c, runningMean[c], inverseStd);
        }
    }

    // y = γ·x̂ + β with x̂ = (x − μ)·invStd; backward recomputes x̂ from the same float μ and invStd.
    private void Normalize(int c, double mean, double inverseStd)
    {
        var input = _input!.Span;
        var output = _outputView!.Span;
        int batch = _input.Shape[0];
        float gamma = Slice(_parameters, _gamma)[c];
        float beta = Slice(_parameters, _beta)[c];
        _normalizeMean[c] = (float)mean;
        _normalizeScale[c] = (float)inverseStd;
        _normalizeGamma[c] = gamma;
        _normalizeBeta[c] = beta;

        for (int b = 0; b < batch; b++)
        {
            var y = Row(output, b, c);
            BatchNormKernels.Normalize(Row(input, b, c), _normalizeMean[c], _normalizeScale[c], gamma, beta, y);
            if (_reluFused)
            {
                // The ReLU layer's own operation, on a row still in L1.
                TensorPrimitives.Max(y, 0f, y);
            }
        }
    }

    private void BackwardRange(int worker, int first, int end)
    {
        // With a fused ReLU, the gradient the sums and the input gradient use is the masked one.
        var incoming = _outputGradient!.Span;
        var outputGradient = _reluFused ? _maskedGradientView!.Span : incoming;
        var input = _input!.Span;
        var normalized = _normalizedScratch[worker].AsSpan();
        int batch = _outputGradient!.Shape[0];
        int count = batch * _spatial;
        var gammaGradient = Slice(_gradients, _gamma);
        var betaGradient = Slice(_gradients, _beta);

        for (int c = first; c < end; c++)
        {
            double sumGradient = 0;
            double sumGradientTimesNormalized = 0;
            for (int b = 0; b < batch; b++)
            {
                var xHat = normalized.Slice(b * _spatial, _spatial);
                if (_reluFused)
                {
                    // The fused ReLU's mask from y recomputed from x, rather than read back from the output.
                    BatchNormKernels.MaskedGradientSums(
                        Row(input, b, c), Row(incoming, b, c), _normalizeMean[c], _normalizeScale[c],
                        _normalizeGamma[c], _normalizeBeta[c], xHat, Row(outputGradient, b, c), out float sum,
                        out float dot);
                    sumGradient += sum;
                    sumGradientTimesNormalized += dot;
                    continue;
                }

                var dy = Row(outputGradient, b, c);
                BatchNormKernels.Standardize(Row(input, b, c), _normalizeMean[c], _normalizeScale[c], xHat);
                sumGradient += OrderedSum.Sum(dy);
                sumGradientTimesNormalized += OrderedSum.Dot(dy, xHat);
            }

            betaGradient[c] = (float)sumGradient;
            gammaGradient[c] = (float)sumGradientTimesNormalized;
            if (_inputGradientView is not null)
            {
                InputGradient(c, normalized, sumGradient / count, sumGradientTimesNormalized / count);
            }
        }
    }

    // Training: dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), as μ and σ depend on x.
    // Evaluation: the statistics are constants, so dx = γ·invStd·dy.
    // normalized: channel c's x̂, (batch, spatial).
    private void InputGradient(
        int c,
        ReadOnlySpan<float> normalized,
        double meanGradient,
        double meanGradientTimesNormalized)
    {
        // With a fused ReLU the masked gradient already sits in the input gradient's rows: rewritten in place.
        var outputGradient = _reluFused ? _maskedGradientView!.Span : _outputGradient!.Span;
        var inputGradient = _inputGradientView!.Span;
        int batch = _outputGradient!.Shape[0];
        double scale = Slice(_parameters, _gamma)[c] * _inverseStd[c];
        double shift = _lastTraining ? meanGradient : 0;
        double slope = _lastTraining ? meanGradientTimesNormalized : 0;

        for (int b = 0; b < batch; b++)
        {
            BatchNormKernels.InputGradient(
                Row(outputGradient, b, c), normalized.Slice(b * _spatial, _spatial), (float)scale, (float)shift,
                (float)slope,
                Row(inputGradient, b, c));
        }
    }

    // The H·W values of channel c in sample b (one value for a rank-1 input).
    private Span<float> Row(Span<float> tensor, int b, int c) =>
        tensor.Slice((b * _channels + c) * _spatial, _spatial);

    private static Span<float> Slice(float[] array, ParameterSegment? segment) =>
        segment is null
            ? throw new InvalidOperationException("BatchNorm layer is not built.")
            : array.AsSpan(segment.Offset, segment.Length);
}
