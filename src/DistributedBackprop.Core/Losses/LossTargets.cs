namespace DistributedBackprop.Core.Losses;

/// <summary>The targets of one micro-batch: float values or integer class labels, without copying either.</summary>
public readonly ref struct LossTargets
{
    private LossTargets(LossTargetKind kind, ReadOnlySpan<float> values, ReadOnlySpan<int> labels)
    {
        Kind = kind;
        Values = values;
        Labels = labels;
    }

    public LossTargetKind Kind { get; }

    /// <summary>(batch, ...) row-major, same element count as the predictions; empty for labels.</summary>
    public ReadOnlySpan<float> Values { get; }

    /// <summary>(batch) class indices; empty for values.</summary>
    public ReadOnlySpan<int> Labels { get; }

    public static LossTargets FromValues(ReadOnlySpan<float> values) => new(LossTargetKind.Values, values, default);

    public static LossTargets FromLabels(ReadOnlySpan<int> labels) => new(LossTargetKind.Labels, default, labels);
}
