using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Losses;

/// <summary>Behaviour every loss shares: exact gradients, micro-batch additivity, target checks.</summary>
public sealed class LossContractTests
{
    private const int Batch = 6;
    private const int Width = 5;

    public static TheoryData<string> Names => ["mse", "softmax_cross_entropy", "binary_cross_entropy"];

    [Theory]
    [MemberData(nameof(Names))]
    public void Compute_FiniteDifferences_MatchGradient(string name)
    {
        var (loss, values, labels) = Create(name);
        var predictions = LossGradientCheck.Random(1, Batch, Width);

        double error = LossGradientCheck.MaxRelativeError(loss, predictions, values, labels, scale: 1f / Batch);

        Assert.True(error < 1e-3, $"{name}: relative error {error}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Compute_MicroBatchesScaledByGlobalBatch_AddUpToGlobalMean(string name)
    {
        var (loss, values, labels) = Create(name);
        var predictions = LossGradientCheck.Random(2, Batch, Width);
        const float scale = 1f / Batch;

        var whole = loss.Compute(predictions, Targets(values, labels, 0, Batch), scale);
        double wholeLoss = whole.Loss;
        var wholeGradient = whole.Gradient.Span.ToArray();
        var first = loss.Compute(Rows(predictions, 0, 2), Targets(values, labels, 0, 2), scale);
        double firstLoss = first.Loss;
        var firstGradient = first.Gradient.Span.ToArray();
        var second = loss.Compute(Rows(predictions, 2, 4), Targets(values, labels, 2, 4), scale);

        float[] joinedGradient = [.. firstGradient, .. second.Gradient.Span.ToArray()];

        Assert.Equal(wholeLoss, firstLoss + second.Loss, 1e-6);
        Assert.Equal(wholeGradient, joinedGradient);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Compute_WrongTargetKind_ThrowsNamingTargets(string name)
    {
        var (loss, _, _) = Create(name);
        var predictions = new Tensor(Batch, Width);

        var error = Assert.Throws<ArgumentException>(() => loss.Compute(
            predictions,
            loss.TargetKind == LossTargetKind.Labels
                ? LossTargets.FromValues(new float[Batch * Width])
                : LossTargets.FromLabels(new int[Batch]),
            1f));

        Assert.Equal("targets", error.ParamName);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Compute_TargetCountMismatch_ThrowsNamingTargets(string name)
    {
        var (loss, _, _) = Create(name);
        var predictions = new Tensor(Batch, Width);

        var error = Assert.Throws<ArgumentException>(() => loss.Compute(
            predictions,
            loss.TargetKind == LossTargetKind.Labels
                ? LossTargets.FromLabels(new int[Batch - 1])
                : LossTargets.FromValues(new float[Batch * Width - 1]),
            1f));

        Assert.Equal("targets", error.ParamName);
    }

    private static (ILoss Loss, float[]? Values, int[]? Labels) Create(string name)
    {
        var rng = new DeterministicRandom(17);
        return name switch
        {
            "mse" => (new MeanSquaredErrorLoss(), LossGradientCheck.Random(3, Batch * Width).Span.ToArray(), null),
            "softmax_cross_entropy" => (new SoftmaxCrossEntropyLoss(), null,
                Enumerable.Range(0, Batch).Select(_ => rng.NextInt(Width)).ToArray()),
            "binary_cross_entropy" => (new BinaryCrossEntropyLoss(),
                Enumerable.Range(0, Batch * Width).Select(_ => (float)rng.NextInt(2)).ToArray(), null),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown loss."),
        };
    }

    private static LossTargets Targets(float[]? values, int[]? labels, int start, int rows) =>
        values is null
            ? LossTargets.FromLabels(labels.AsSpan(start, rows))
            : LossTargets.FromValues(values.AsSpan(start * Width, rows * Width));

    private static Tensor Rows(Tensor predictions, int start, int rows) =>
        new(predictions.Data, predictions.Offset + start * Width, rows, Width);
}
