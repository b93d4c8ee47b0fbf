namespace DistributedBackprop.Core.Parameters;

/// <summary>What the optimizer does with a segment of the flat parameter vector.</summary>
public enum ParameterKind
{
    /// <summary>A weight matrix or kernel: trained, subject to weight decay.</summary>
    Weight,

    /// <summary>A bias, BatchNorm scale or shift: trained, exempt from weight decay.</summary>
    Bias,

    /// <summary>
    /// A running statistic (BatchNorm mean or variance). Not trained: its "gradient" slot carries the
    /// micro-batch statistic weighted by the micro-batch's share of the global batch, and the update is
    /// <c>value = (1 - momentum) * value + momentum * reduced</c>. Keeping it in the flat vector lets the
    /// parameter server, checkpoints and the equivalence guarantee treat it like any parameter.
    /// </summary>
    RunningStatistic,
}

/// <summary>A named view (offset, shape) into a model's flat parameter and gradient vectors.</summary>
/// <param name="Name">Dotted path, e.g. <c>layers.0.weight</c>.</param>
/// <param name="Offset">First element in the flat vector.</param>
/// <param name="Shape">Dimensions of the view; the element count is <see cref="Length"/>.</param>
/// <param name="Kind">How optimizers treat it.</param>
/// <param name="Momentum">Update rate of a running statistic; unused for trained kinds.</param>
public sealed record ParameterSegment(string Name, int Offset, int[] Shape, ParameterKind Kind, float Momentum = 0f)
{
    public int Length { get; } = (int)Tensors.ShapeUtil.Product(Shape);

    public int End => Offset + Length;

    public bool IsTrained => Kind != ParameterKind.RunningStatistic;
}
