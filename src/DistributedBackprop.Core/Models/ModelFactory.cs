using DistributedBackprop.Core.Layers;

namespace DistributedBackprop.Core.Models;

/// <summary>Turns a <see cref="ModelSpec"/> into a built <see cref="Model"/>, validating every field.</summary>
public static class ModelFactory
{
    /// <summary>Builds the model for a per-sample input shape (the spec's own shape wins when given).</summary>
    /// <exception cref="ModelSpecException">A bad field, shape mismatch or size limit; names the field.</exception>
    public static Model Create(ModelSpec spec, int[] inputShape, int maxParameters = ModelSpec.DefaultMaxParameters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int[] shape = spec.InputShape ?? inputShape;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] <= 0)
            {
                throw new ModelSpecException($"inputShape[{i}]", $"must be positive, got {shape[i]}.");
            }
        }

        var layers = CreateLayers(spec.Layers, "layers", shape);
        return new Model(layers, shape, maxParameters);
    }

    private static List<Layer> CreateLayers(IReadOnlyList<LayerSpec> specs, string path, int[] inputShape)
    {
        var layers = new List<Layer>(specs.Count);
        int channels = inputShape.Length == 3 ? inputShape[0] : 0;
        for (int i = 0; i < specs.Count; i++)
        {
            var layer = CreateLayer(specs[i], $"{path}[{i}]", channels);
            layers.Add(layer);
            channels = specs[i].Type switch
            {
                "conv2d" or "residual" => specs[i].Filters ?? channels,
                "flatten" or "dense" or "globalavgpool" => 0,
                _ => channels,
            };
        }

        return layers;
    }

    // channels: the input's channel count where it is an image, so a basic residual block knows whether it needs a
    // projection; 0 otherwise (then the block reports the shape problem itself when built).
    private static Layer CreateLayer(LayerSpec spec, string path, int channels) => spec.Type switch
    {
        "dense" => new Dense(Positive(spec.Units, $"{path}.units"), Init(spec.Init, $"{path}.init")),
        "conv2d" => new Conv2D(
            Positive(spec.Filters, $"{path}.filters"),
            Positive(spec.KernelSize ?? 3, $"{path}.kernelSize"),
            Positive(spec.Stride ?? 1, $"{path}.stride"),
            NonNegative(spec.Padding ?? 0, $"{path}.padding"),
            Init(spec.Init, $"{path}.init")),
        "maxpool2d" => new MaxPool2D(
            Positive(spec.Size ?? 2, $"{path}.size"),
            Positive(spec.Stride ?? spec.Size ?? 2, $"{path}.stride")),
        "avgpool2d" => new AvgPool2D(
            Positive(spec.Size ?? 2, $"{path}.size"),
            Positive(spec.Stride ?? spec.Size ?? 2, $"{path}.stride")),
        "globalavgpool" => new GlobalAvgPool(),
        "batchnorm" => new BatchNorm(
            InRange(spec.Momentum ?? 0.1f, 0f, 1f, $"{path}.momentum", "in (0, 1]"),
            InRange(spec.Epsilon ?? 1e-5f, 0f, 1f, $"{path}.epsilon", "in (0, 1]")),
        "dropout" => new Dropout(Rate(spec.Rate, $"{path}.rate")),
        "flatten" => new Flatten(),
        "relu" => new ReLU(),
        "leakyrelu" => new LeakyReLU(InRange(spec.Slope ?? 0.01f, 0f, 1f, $"{path}.slope", "in (0, 1]")),
        "sigmoid" => new Sigmoid(),
        "tanh" => new Tanh(),
        "gelu" => new Gelu(),
        "softmax" => new Softmax(),
        "residual" => CreateResidual(spec, path, channels),
        _ => throw new ModelSpecException(
            $"{path}.type",
            $"unknown layer type '{spec.Type}'; allowed: {string.Join(", ", ModelSpecJson.LayerTypes)}."),
    };

    private static ResidualBlock CreateResidual(LayerSpec spec, string path, int channels)
    {
        if (spec.Body is null)
        {
            if (channels <= 0)
            {
                throw new ModelSpecException(
                    path, "a basic residual block needs an image input (channels, height, width).");
            }

            return ResidualBlock.Basic(
                channels,
                Positive(spec.Filters ?? channels, $"{path}.filters"),
                Positive(spec.Stride ?? 1, $"{path}.stride"));
        }

        var body = CreateLayers(spec.Body, $"{path}.body", [channels, 1, 1]);
        var projection = spec.Projection is null
            ? null
            : CreateLayers(spec.Projection, $"{path}.projection", [channels, 1, 1]);
        return new ResidualBlock(body, projection);
    }

    private static int Positive(int? value, string path) => value switch
    {
        null => throw new ModelSpecException(path, "is required (a positive integer)."),
        <= 0 => throw new ModelSpecException(path, $"must be a positive integer, got {value}."),
        _ => value.Value,
    };

    private static int NonNegative(int value, string path) =>
        value >= 0 ? value : throw new ModelSpecException(path, $"must be 0 or more, got {value}.");

    private static float InRange(float value, float exclusiveMin, float inclusiveMax, string path, string allowed) =>
        value > exclusiveMin && value <= inclusiveMax && float.IsFinite(value)
            ? value
            : throw new ModelSpecException(path, $"must be {allowed}, got {value}.");

    private static float Rate(float? value, string path) => value switch
    {
        null => throw new ModelSpecException(path, "is required (a probability in [0, 1))."),
        < 0f or >= 1f => throw new ModelSpecException(path, $"must be in [0, 1), got {value}."),
        _ => value.Value,
    };

    private static InitKind Init(string? name, string path) => name switch
    {
        null or "he_normal" => InitKind.HeNormal,
        "he_uniform" => InitKind.HeUniform,
        "xavier_normal" or "glorot_normal" => InitKind.XavierNormal,
        "xavier_uniform" or "glorot_uniform" => InitKind.XavierUniform,
        "zeros" => InitKind.Zeros,
        "fan_in_uniform" => InitKind.FanInUniform,
        _ => throw new ModelSpecException(
            path,
            $"unknown initialiser '{name}'; allowed: he_normal, he_uniform, xavier_normal, xavier_uniform, zeros, "
            + "fan_in_uniform."),
    };
}
