using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Training;

/// <summary>Loss summed over rows (not averaged) and correct predictions, over some rows of a dataset.</summary>
public readonly record struct EvaluationSums(double LossSum, long Correct, long Rows)
{
    public double MeanLoss => Rows == 0 ? 0 : LossSum / Rows;

    public double Accuracy => Rows == 0 ? 0 : (double)Correct / Rows;

    public EvaluationSums Add(EvaluationSums other) =>
        new(LossSum + other.LossSum, Correct + other.Correct, Rows + other.Rows);
}

/// <summary>
/// Evaluation mode forward passes (BatchNorm uses running statistics, dropout is off) over a range of rows.
/// Not thread-safe: one per model instance.
/// </summary>
public sealed class Evaluator
{
    private readonly Model _model;
    private readonly int _batchSize;
    private readonly SoftmaxCrossEntropyLoss _loss = new();
    private readonly LayerContext _context;
    private int[] _rows = [];
    private int[] _labels = [];
    private Tensor? _input;

    public Evaluator(Model model, int batchSize, int threads)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _model = model;
        _batchSize = batchSize;
        _context = new LayerContext { Training = false, Threads = threads };
    }

    /// <summary>Sums over rows [start, end) of <paramref name="data"/>, batch by batch in row order.</summary>
    public EvaluationSums Evaluate(Dataset data, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(data);
        var sums = default(EvaluationSums);
        for (int first = start; first < end; first += _batchSize)
        {
            int count = Math.Min(_batchSize, end - first);
            if (_input is null || _input.Shape[0] != count)
            {
                _input = new Tensor(data.BatchShape(count));
                _rows = new int[count];
                _labels = new int[count];
                _context.SampleIds = new int[count];
            }

            for (int i = 0; i < count; i++)
            {
                _rows[i] = first + i;
            }

            data.CopyRows(_rows, _input, _labels);
            var output = _model.Forward(_input, _context);
            var loss = _loss.Compute(output, LossTargets.FromLabels(_labels), 1f);
            sums = sums.Add(new EvaluationSums(loss.Loss, loss.Correct ?? 0, count));
        }

        return sums;
    }
}
