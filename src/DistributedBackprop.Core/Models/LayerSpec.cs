namespace DistributedBackprop.Core.Models;

/// <summary>
/// One entry of a declarative model: a layer type and the fields that type uses. Unused fields stay null.
/// The JSON form is an object such as <c>{"type": "conv2d", "filters": 32, "kernelSize": 3, "padding": 1}</c>.
/// </summary>
public sealed record LayerSpec(string Type)
{
    /// <summary>dense: output features.</summary>
    public int? Units { get; init; }

    /// <summary>conv2d, residual: output channels.</summary>
    public int? Filters { get; init; }

    /// <summary>conv2d: square kernel side, default 3.</summary>
    public int? KernelSize { get; init; }

    /// <summary>conv2d, pooling, residual: stride (conv default 1, pooling default = size).</summary>
    public int? Stride { get; init; }

    /// <summary>conv2d: zero padding on each side, default 0.</summary>
    public int? Padding { get; init; }

    /// <summary>maxpool2d, avgpool2d: window side, default 2.</summary>
    public int? Size { get; init; }

    /// <summary>dropout: probability of dropping an element, in [0, 1).</summary>
    public float? Rate { get; init; }

    /// <summary>leakyrelu: slope for negative inputs, default 0.01.</summary>
    public float? Slope { get; init; }

    /// <summary>batchnorm: running-statistics update rate, default 0.1.</summary>
    public float? Momentum { get; init; }

    /// <summary>batchnorm: variance floor, default 1e-5.</summary>
    public float? Epsilon { get; init; }

    /// <summary>
    /// dense, conv2d: he_normal (default), he_uniform, xavier_normal, xavier_uniform, zeros or fan_in_uniform
    /// (U(±1/√fanIn) for weights and bias, PyTorch's default).
    /// </summary>
    public string? Init { get; init; }

    /// <summary>residual: explicit main path; when absent, a basic block (two 3×3 convs with BatchNorm).</summary>
    public IReadOnlyList<LayerSpec>? Body { get; init; }

    /// <summary>residual: explicit skip path (e.g. a 1×1 conv); absent means identity or the basic block's.</summary>
    public IReadOnlyList<LayerSpec>? Projection { get; init; }
}
