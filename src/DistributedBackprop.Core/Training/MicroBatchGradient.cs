using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Training;

/// <summary>What one micro-batch contributed: its share of the step's mean loss, and correct predictions.</summary>
/// <param name="Loss">Sum of the micro-batch's per-sample losses divided by the global batch size.</param>
public readonly record struct MicroBatchResult(double Loss, int Correct);

/// <summary>
/// Computes the gradient of one micro-batch of a step into <see cref="Model.Gradients"/>: the unit of work that
/// the single-process trainer loops over and that a cluster worker runs for the micro-batches it owns.
/// </summary>
/// <remarks>
/// The loss is scaled by 1 / global batch size, so the canonical tree sum of a step's micro-batch gradients is
/// the gradient of the global batch's mean loss. Rows come from <see cref="BatchSampler"/> by (seed, epoch, step),
/// and each row's sample id is its position in the global batch, so nothing here depends on who computes which
/// micro-batch. Not thread-safe: one instance per worker; buffers are reused, so a step allocates nothing.
/// </remarks>
public sealed class MicroBatchGradient
{
    private readonly Dataset _train;
    private readonly BatchSampler _sampler;
    private readonly TrainingOptions _options;
    private readonly SoftmaxCrossEntropyLoss _loss = new();
    private readonly LayerContext _context = new();
    private readonly int _microBatchSize;
    private readonly int[] _rows;
    private readonly int[] _labels;
    private readonly Tensor _input;
    private float[] _parameters;

    public MicroBatchGradient(Model model, Dataset train, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        Model = model;
        _parameters = model.Parameters;
        _train = train;
        _options = options;
        _sampler = new BatchSampler(train.Count, options.BatchSize, options.Seed);
        _microBatchSize = _sampler.MicroBatchSize(options.MicroBatches);
        _rows = new int[_microBatchSize];
        _labels = new int[_microBatchSize];
        _input = new Tensor(train.BatchShape(_microBatchSize));
        _context.SampleIds = new int[_microBatchSize];
        _context.Training = true;
        _context.Seed = options.Seed;
        _context.Threads = options.Threads;
        _context.BatchFraction = (float)_microBatchSize / options.BatchSize;
    }

    public Model Model { get; }

    public BatchSampler Sampler => _sampler;

    /// <summary>
    /// Makes the model's layers read their parameters from <paramref name="parameters"/> (the model's layout)
    /// instead of <see cref="Model.Parameters"/>, without copying: e.g. one vector that several workers of a
    /// process share. Nothing here writes it, in training or evaluation; the caller must not change it while a
    /// pass runs.
    /// </summary>
    public void UseParameters(float[] parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Length != Model.Layout.Count)
        {
            throw new ArgumentException(
                $"The parameter vector has {parameters.Length} elements; the model's layout has "
                + $"{Model.Layout.Count}.",
                nameof(parameters));
        }

        _parameters = parameters;
        Bind(Model.Gradients);
    }

    /// <summary>Forward, loss and backward of micro-batch <paramref name="microBatch"/> of a step, into
    /// <see cref="Model.Gradients"/>.</summary>
    /// <param name="epoch">0-based epoch.</param>
    /// <param name="step">0-based step within the epoch.</param>
    public MicroBatchResult Compute(int epoch, int step, int microBatch) =>
        Compute(epoch, step, microBatch, Model.Gradients);

    /// <summary>
    /// As <see cref="Compute(int, int, int)"/>, but the layers write the gradient (and the running-statistic
    /// slots) straight into <paramref name="gradients"/>, e.g. a leaf buffer of a micro-batch accumulator, which
    /// saves copying the whole vector out of <see cref="Model.Gradients"/> afterwards. Every element of it is
    /// overwritten; the layers are bound back to <see cref="Model.Gradients"/> before this returns.
    /// </summary>
    /// <param name="gradients">A vector of the model's layout, <c>Model.Layout.Count</c> long.</param>
    public MicroBatchResult Compute(int epoch, int step, int microBatch, float[] gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Length != Model.Layout.Count)
        {
            throw new ArgumentException(
                $"The gradient vector has {gradients.Length} elements; the model's layout has {Model.Layout.Count}.",
                nameof(gradients));
        }

        if (gradients == Model.Gradients)
        {
            return Run(epoch, step, microBatch);
        }

        Bind(gradients);
        try
        {
            return Run(epoch, step, microBatch);
        }
        finally
        {
            Bind(Model.Gradients);
        }
    }

    private MicroBatchResult Run(int epoch, int step, int microBatch)
    {
        _sampler.GetMicroBatch(epoch, step, microBatch, _options.MicroBatches, _rows);
        _train.CopyRows(_rows, _input, _labels);

        int firstSampleId = _sampler.MicroBatchStart(microBatch, _options.MicroBatches);
        for (int i = 0; i < _context.SampleIds.Length; i++)
        {
            _context.SampleIds[i] = firstSampleId + i;
        }

        _context.Step = (long)epoch * _sampler.StepsPerEpoch + step;

        var output = Model.Forward(_input, _context);
        var loss = _loss.Compute(output, LossTargets.FromLabels(_labels), 1f / _options.BatchSize);
        Model.Backward(loss.Gradient, _context);

        return new MicroBatchResult(loss.Loss, loss.Correct ?? 0);
    }

    // Layers hold the arrays they were bound to; binding is a few field writes per layer.
    private void Bind(float[] gradients)
    {
        foreach (var layer in Model.Layers)
        {
            layer.Bind(_parameters, gradients);
        }
    }
}
