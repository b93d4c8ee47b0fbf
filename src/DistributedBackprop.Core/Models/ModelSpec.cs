namespace DistributedBackprop.Core.Models;

/// <summary>A declarative model: layers, and the per-sample input shape (the dataset's when absent).</summary>
public sealed record ModelSpec(IReadOnlyList<LayerSpec> Layers, int[]? InputShape = null)
{
    /// <summary>Default limit on parameters, so a typo cannot ask a worker for gigabytes (50 million floats).</summary>
    public const int DefaultMaxParameters = 50_000_000;
}

/// <summary>An invalid model spec; <see cref="Field"/> is the JSON path of the offending value.</summary>
public sealed class ModelSpecException : Exception
{
    public ModelSpecException(string field, string message)
        : base($"{field}: {message}")
    {
        Field = field;
    }

    public ModelSpecException()
    {
        Field = string.Empty;
    }

    public ModelSpecException(string message)
        : base(message)
    {
        Field = string.Empty;
    }

    public ModelSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
    }

    /// <summary>e.g. <c>layers[3].units</c>.</summary>
    public string Field { get; }
}
