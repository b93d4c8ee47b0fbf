using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>A worker's copy of the model with its dataset: computes micro-batch gradients and evaluates.</summary>
/// <remarks>Scaffold: a softmax regression written here until the Core library's model builder and gradient
/// computer land; the grains only use the members below.</remarks>
internal sealed class ModelReplica
{
    private readonly TrainTestDatasets _data;
    private readonly BatchSampler _sampler;
    private readonly int _features;
    private readonly int _classes;
    private readonly float[] _parameters;
    private readonly int[] _rows;
    private readonly double[] _probabilities;

    private ModelReplica(RunSpec spec, TrainTestDatasets data)
    {
        _data = data;
        _sampler = new BatchSampler(data.Train.Count, spec.BatchSize, spec.Seed);
        _features = data.Train.SampleSize;
        _classes = data.Train.ClassCount;
        Layout = BuildLayout(data.Train.SampleShape.ToArray(), _classes);
        _parameters = new float[Layout.Count];
        _rows = new int[spec.BatchSize];
        _probabilities = new double[_classes];
    }

    public ParameterLayout Layout { get; }

    public TrainTestDatasets Data => _data;

    public int StepsPerEpoch => _sampler.StepsPerEpoch;

    public static ModelReplica Create(RunSpec spec, string? dataRoot)
    {
        string dataset = spec.DatasetCase == RunSpec.DatasetOneofCase.DatasetName
            ? spec.DatasetName : spec.DatasetDirectory;
        return new ModelReplica(spec, DatasetCatalog.Default.Load(dataset, dataRoot));
    }

    public static ParameterLayout BuildLayout(int[] sampleShape, int classes)
    {
        var builder = new ParameterLayoutBuilder();
        builder.Add("weight", ParameterKind.Weight, classes, (int)ShapeUtil.Product(sampleShape));
        builder.Add("bias", ParameterKind.Bias, classes);
        return builder.Build();
    }

    public static float[] InitialParameters(ParameterLayout layout, ulong seed)
    {
        var values = new float[layout.Count];
        var random = new DeterministicRandom(seed, stream: 1000);
        var weight = layout["weight"];
        for (int i = weight.Offset; i < weight.End; i++)
        {
            values[i] = (float)(random.NextGaussian() * 0.01);
        }

        return values;
    }

    public void SetParameters(ReadOnlySpan<float> parameters) => parameters.CopyTo(_parameters);

    /// <summary>Writes the gradient of (sum of the micro-batch's sample losses) / B into
    /// <paramref name="gradient"/>; returns the loss sum and correct predictions.</summary>
    public (double LossSum, int Correct) ComputeMicroBatch(
        int epoch,
        int step,
        int microBatch,
        int microBatches,
        float[] gradient)
    {
        int size = _sampler.MicroBatchSize(microBatches);
        var rows = _rows.AsSpan(0, size);
        _sampler.GetMicroBatch(epoch, step, microBatch, microBatches, rows);
        Array.Clear(gradient);
        double lossSum = 0;
        int correct = 0;
        float scale = 1f / _sampler.BatchSize;
        var weight = Layout["weight"];
        var bias = Layout["bias"];
        foreach (int row in rows)
        {
            var x = _data.Train.GetSample(row);
            int label = _data.Train.Labels[row];
            (double loss, bool hit) = Forward(x, label);
            lossSum += loss;
            correct += hit ? 1 : 0;
            for (int c = 0; c < _classes; c++)
            {
                float d = (float)(_probabilities[c] - (c == label ? 1 : 0)) * scale;
                var gw = gradient.AsSpan(weight.Offset + c * _features, _features);
                for (int f = 0; f < _features; f++)
                {
                    gw[f] += d * x[f];
                }

                gradient[bias.Offset + c] += d;
            }
        }

        return (lossSum, correct);
    }

    public (double LossSum, long Correct) Evaluate(int rowStart, int rowEnd)
    {
        double lossSum = 0;
        long correct = 0;
        for (int row = rowStart; row < rowEnd; row++)
        {
            (double loss, bool hit) = Forward(_data.Test.GetSample(row), _data.Test.Labels[row]);
            lossSum += loss;
            correct += hit ? 1 : 0;
        }

        return (lossSum, correct);
    }

    private (double Loss, bool Correct) Forward(ReadOnlySpan<float> x, int label)
    {
        var weight = Layout["weight"];
        var bias = Layout["bias"];
        double max = double.NegativeInfinity;
        int best = 0;
        for (int c = 0; c < _classes; c++)
        {
            var w = _parameters.AsSpan(weight.Offset + c * _features, _features);
            float logit = _parameters[bias.Offset + c];
            for (int f = 0; f < _features; f++)
            {
                logit += w[f] * x[f];
            }

            _probabilities[c] = logit;
            if (logit > max)
            {
                max = logit;
                best = c;
            }
        }

        double total = 0;
        for (int c = 0; c < _classes; c++)
        {
            _probabilities[c] = Math.Exp(_probabilities[c] - max);
            total += _probabilities[c];
        }

        for (int c = 0; c < _classes; c++)
        {
            _probabilities[c] /= total;
        }

        return (-Math.Log(Math.Max(_probabilities[label], 1e-300)), best == label);
    }
}
