using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>
/// A worker's copy of the model with its silo's copy of the dataset, wrapping the Core pieces the single-process
/// trainer uses: <see cref="MicroBatchGradient"/> for training and <see cref="Evaluator"/> for the test split.
/// </summary>
internal sealed class ModelReplica
{
    private readonly MicroBatchGradient _gradient;
    private readonly Evaluator _evaluator;

    private ModelReplica(Model model, TrainTestDatasets data, TrainingOptions options)
    {
        Data = data;
        Options = options;
        _gradient = new MicroBatchGradient(model, data.Train, options);
        _evaluator = new Evaluator(model, options.EvaluationBatchSize, options.Threads);
    }

    public TrainTestDatasets Data { get; }

    public TrainingOptions Options { get; }

    public Model Model => _gradient.Model;

    /// <summary>Loads the dataset (cached per process) and builds the model as the trainer does.</summary>
    /// <exception cref="DatasetException">The dataset is missing or malformed on this silo.</exception>
    /// <exception cref="ModelSpecException">The model does not fit the data.</exception>
    /// <exception cref="ArgumentException">The options do not fit the data (e.g. batch above the set).</exception>
    public static ModelReplica Create(RunSpec spec, string? dataRoot, int threads)
    {
        var data = DatasetCatalog.Default.Load(RunSpecMapping.Dataset(spec), dataRoot);
        var options = RunSpecMapping.ToTrainingOptions(spec, threads);
        var problems = options.Validate(data.Train.Count);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems));
        }

        var model = Trainer.CreateModel(RunSpecMapping.ToModelSpec(spec), data.Train, options.Seed);
        return new ModelReplica(model, data, options);
    }

    /// <summary>Reads parameters from <paramref name="parameters"/> in place from now on, training and evaluating
    /// alike: the silo's reducer shares one vector with its local workers instead of a copy each. The caller
    /// must not change it while a pass runs.</summary>
    public void UseParameters(float[] parameters) => _gradient.UseParameters(parameters);

    /// <summary>Forward, loss and backward of one micro-batch; the gradient lands in <paramref name="gradients"/>
    /// (the model's layout, e.g. a pooled leaf of a micro-batch accumulator).</summary>
    public MicroBatchResult ComputeMicroBatch(int epoch, int step, int microBatch, float[] gradients) =>
        _gradient.Compute(epoch, step, microBatch, gradients);

    /// <summary>Sums over test rows [start, end), in the evaluator's batches.</summary>
    public EvaluationSums Evaluate(int start, int end) => _evaluator.Evaluate(Data.Test, start, end);
}
