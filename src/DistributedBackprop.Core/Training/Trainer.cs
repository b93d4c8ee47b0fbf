using System.Diagnostics;
using System.Numerics;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Reduction;

namespace DistributedBackprop.Core.Training;

/// <summary>The outcome of a finished run.</summary>
public sealed record TrainingResult(
    int Epochs,
    double TestLoss,
    double TestAccuracy,
    double ElapsedSeconds,
    double TrainingSeconds);

/// <summary>
/// The single-process trainer and the reference for the cluster: a cluster run with any number of workers and
/// shards must end with the same parameters as this class, bit for bit.
/// </summary>
/// <remarks>
/// One step: for each micro-batch i in 0..M-1, forward + loss + backward (<see cref="MicroBatchGradient"/>) and
/// fold the gradient into the canonical tree (<see cref="MicroBatchAccumulator"/>); then compute the global
/// norm from 4096-element chunks (finite exactly when every trained element is), check it, the loss and the
/// running statistics are finite, clip, and apply the optimizer over the whole vector
/// (<see cref="ParameterUpdater"/>). Evaluation on the test split after every epoch.
/// </remarks>
public sealed class Trainer
{
    private readonly Dataset _train;
    private readonly Dataset _test;
    private readonly TrainingOptions _options;
    private readonly MicroBatchGradient _gradient;
    private readonly MicroBatchAccumulator _accumulator;
    private readonly ParameterUpdater _updater;
    private readonly Evaluator _evaluator;
    private readonly ParameterSegment[] _runningStatistics;

    /// <exception cref="ModelSpecException">The model does not fit the data.</exception>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public Trainer(ModelSpec spec, Dataset train, Dataset test, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate(train.Count);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, problems));
        }

        Model = CreateModel(spec, train, options.Seed);
        _train = train;
        _test = test;
        _options = options;
        _gradient = new MicroBatchGradient(Model, train, options);
        _accumulator = new MicroBatchAccumulator(Model.Layout.Count);
        _updater = new ParameterUpdater(Model.Layout, options, StepsPerEpoch, 0, Model.Layout.Count);
        _evaluator = new Evaluator(Model, options.EvaluationBatchSize, options.Threads);
        _runningStatistics = Model.Layout.Segments.Where(segment => !segment.IsTrained).ToArray();
    }

    public Model Model { get; }

    public int StepsPerEpoch => _gradient.Sampler.StepsPerEpoch;

    /// <summary>Builds and initialises the model a run with this spec, data and seed starts from.</summary>
    /// <exception cref="ModelSpecException">The model does not fit the data, e.g. the output is not one logit
    /// per class.</exception>
    public static Model CreateModel(ModelSpec spec, Dataset train, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(train);
        var model = ModelFactory.Create(spec, train.SampleShape.ToArray());
        if (model.OutputShape.Length != 1 || model.OutputShape[0] != train.ClassCount)
        {
            throw new ModelSpecException(
                "layers",
                $"the model's output shape is {Tensors.ShapeUtil.Format(model.OutputShape)}, but {train.Name} has " +
                $"{train.ClassCount} classes: end with a dense layer of {train.ClassCount} units.");
        }

        model.Initialize(seed);
        return model;
    }

    /// <summary>Trains for the configured epochs, reporting to <paramref name="observer"/>.</summary>
    /// <exception cref="TrainingException">The loss or gradient became NaN or infinite; names the step.</exception>
    public TrainingResult Run(ITrainingObserver? observer = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        double trainingSeconds = 0;
        EvaluationSums test = default;
        for (int epoch = 0; epoch < _options.Epochs; epoch++)
        {
            long epochStart = Stopwatch.GetTimestamp();
            double lossSum = 0;
            for (int step = 0; step < StepsPerEpoch; step++)
            {
                cancellation.ThrowIfCancellationRequested();
                var report = Step(epoch, step);
                lossSum += report.Loss;
                observer?.OnStep(report);
            }

            double epochSeconds = Stopwatch.GetElapsedTime(epochStart).TotalSeconds;
            trainingSeconds += epochSeconds;
            test = _evaluator.Evaluate(_test, 0, _test.Count);
            observer?.OnEpoch(new EpochReport(
                epoch + 1,
                _options.Epochs,
                lossSum / StepsPerEpoch,
                test.MeanLoss,
                test.Accuracy,
                (double)StepsPerEpoch * _options.BatchSize / epochSeconds,
                clock.Elapsed.TotalSeconds,
                trainingSeconds,
                Workers: 1));
        }

        return new TrainingResult(
            _options.Epochs, test.MeanLoss, test.Accuracy, clock.Elapsed.TotalSeconds, trainingSeconds);
    }

    /// <summary>One optimizer step: 0-based <paramref name="epoch"/> and <paramref name="step"/> within it.</summary>
    public StepReport Step(int epoch, int step)
    {
        int m = _options.MicroBatches;
        double loss = 0;
        float[] gradient;
        if (m == 1)
        {
            loss = _gradient.Compute(epoch, step, 0).Loss;
            gradient = Model.Gradients;
        }
        else
        {
            _accumulator.Reset(m);
            for (int i = 0; i < m; i++)
            {
                // The layers write straight into the accumulator's pooled leaf, so no pass over |P| copies it.
                var leaf = _accumulator.Rent();
                loss += _gradient.Compute(epoch, step, i, leaf).Loss;
                _accumulator.Push(i, leaf);
            }

            gradient = _accumulator.Finish();
        }

        long globalStep = (long)epoch * StepsPerEpoch + step;
        double norm = Math.Sqrt(GradientNorm.Combine(_updater.PrepareGradient(gradient)));
        if (!double.IsFinite(loss) || !double.IsFinite(norm) || !RunningStatisticsAreFinite(gradient))
        {
            throw new TrainingException(
                $"Step {globalStep + 1} (epoch {epoch + 1}, step {step + 1}): the loss ({loss}) or the gradient " +
                $"(norm {norm}) is not finite. Lower the learning rate or set a clip norm.");
        }

        _updater.Apply(Model.Parameters, gradient, globalStep, norm);
        return new StepReport(
            epoch + 1,
            step + 1,
            StepsPerEpoch,
            globalStep + 1,
            loss,
            norm,
            _updater.LearningRateAt(globalStep),
            _options.BatchSize);
    }

    /// <summary>Evaluates the current parameters on the test split.</summary>
    public EvaluationSums Evaluate() => _evaluator.Evaluate(_test, 0, _test.Count);

    // The norm already proves every trained element finite: a float's square is exact in double, and even 2³¹
    // squares of float.MaxValue sum to about 2.5e86, far below double's range, so the sum of squares is finite
    // exactly when every element is. Only the running statistics, which the norm skips, need their own pass.
    private bool RunningStatisticsAreFinite(ReadOnlySpan<float> gradient)
    {
        foreach (var segment in _runningStatistics)
        {
            if (!IsFinite(gradient.Slice(segment.Offset, segment.Length)))
            {
                return false;
            }
        }

        return true;
    }

    // x * 0 is 0 for every finite x and NaN for NaN and ±Inf, so one pass catches both.
    internal static bool IsFinite(ReadOnlySpan<float> values)
    {
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            acc += new Vector<float>(values[i..]) * Vector<float>.Zero;
        }

        float tail = 0;
        for (; i < values.Length; i++)
        {
            tail += values[i] * 0f;
        }

        return Vector.Sum(acc) == 0f && tail == 0f;
    }
}
