using System.Text.Json;

namespace DistributedBackprop.Core.Models;

/// <summary>
/// Reads a model spec from JSON: either <c>{"inputShape": [1, 28, 28], "layers": [...]}</c> or a bare array of
/// layers. Strict: an unknown layer type or field is an error naming its path, so a typo never trains silently.
/// </summary>
public static class ModelSpecJson
{
    private static readonly Dictionary<string, string[]> FieldsByType = new(StringComparer.Ordinal)
    {
        ["dense"] = ["units", "init"],
        ["conv2d"] = ["filters", "kernelSize", "stride", "padding", "init"],
        ["maxpool2d"] = ["size", "stride"],
        ["avgpool2d"] = ["size", "stride"],
        ["globalavgpool"] = [],
        ["batchnorm"] = ["momentum", "epsilon"],
        ["dropout"] = ["rate"],
        ["flatten"] = [],
        ["relu"] = [],
        ["leakyrelu"] = ["slope"],
        ["sigmoid"] = [],
        ["tanh"] = [],
        ["gelu"] = [],
        ["softmax"] = [],
        ["residual"] = ["filters", "stride", "body", "projection"],
    };

    /// <summary>The layer types a spec may use.</summary>
    public static IReadOnlyCollection<string> LayerTypes => FieldsByType.Keys;

    public static ModelSpec Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ModelSpecException("$", $"not valid JSON ({e.Message}).");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                return new ModelSpec(ParseLayers(root, "layers"));
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelSpecException("$", "expected an object with \"layers\" or an array of layers.");
            }

            int[]? inputShape = null;
            IReadOnlyList<LayerSpec>? layers = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "inputShape":
                        inputShape = ParseShape(property.Value, "inputShape");
                        break;
                    case "layers":
                        layers = ParseLayers(property.Value, "layers");
                        break;
                    default:
                        throw new ModelSpecException(property.Name, "unknown field; allowed: inputShape, layers.");
                }
            }

            return new ModelSpec(layers ?? throw new ModelSpecException("layers", "is required."), inputShape);
        }
    }

    private static List<LayerSpec> ParseLayers(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new ModelSpecException(path, "must be an array of layer objects.");
        }

        var layers = new List<LayerSpec>();
        int index = 0;
        foreach (var item in element.EnumerateArray())
        {
            layers.Add(ParseLayer(item, $"{path}[{index}]"));
            index++;
        }

        if (layers.Count == 0)
        {
            throw new ModelSpecException(path, "must hold at least one layer.");
        }

        return layers;
    }

    private static LayerSpec ParseLayer(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ModelSpecException(path, "must be an object such as {\"type\": \"dense\", \"units\": 128}.");
        }

        if (!element.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            throw new ModelSpecException($"{path}.type", "is required (a string).");
        }

        string type = typeElement.GetString()!.ToLowerInvariant();
        if (!FieldsByType.TryGetValue(type, out var allowed))
        {
            throw new ModelSpecException(
                $"{path}.type",
                $"unknown layer type '{typeElement.GetString()}'; allowed: {string.Join(", ", FieldsByType.Keys)}.");
        }

        var spec = new LayerSpec(type);
        foreach (var property in element.EnumerateObject())
        {
            string field = $"{path}.{property.Name}";
            if (property.Name == "type")
            {
                continue;
            }

            if (!allowed.Contains(property.Name))
            {
                string allowedText = allowed.Length == 0 ? "none" : string.Join(", ", allowed);
                throw new ModelSpecException(field, $"unknown field for a {type} layer; allowed: {allowedText}.");
            }

            var v = property.Value;
            spec = property.Name switch
            {
                "units" => spec with { Units = ReadInt(v, field) },
                "filters" => spec with { Filters = ReadInt(v, field) },
                "kernelSize" => spec with { KernelSize = ReadInt(v, field) },
                "stride" => spec with { Stride = ReadInt(v, field) },
                "padding" => spec with { Padding = ReadInt(v, field) },
                "size" => spec with { Size = ReadInt(v, field) },
                "rate" => spec with { Rate = ReadFloat(v, field) },
                "slope" => spec with { Slope = ReadFloat(v, field) },
                "momentum" => spec with { Momentum = ReadFloat(v, field) },
                "epsilon" => spec with { Epsilon = ReadFloat(v, field) },
                "init" => spec with { Init = ReadString(v, field) },
                "body" => spec with { Body = ParseLayers(v, field) },
                "projection" => spec with { Projection = ParseLayers(v, field) },
                _ => throw new ModelSpecException(field, "unknown field."),
            };
        }

        return spec;
    }

    private static int[] ParseShape(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
        {
            throw new ModelSpecException(path, "must be a non-empty array of positive integers, e.g. [1, 28, 28].");
        }

        return element.EnumerateArray().Select((e, i) => ReadInt(e, $"{path}[{i}]")).ToArray();
    }

    private static int ReadInt(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out int value)
            ? value
            : throw new ModelSpecException(path, $"must be an integer, got {element.GetRawText()}.");

    private static float ReadFloat(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out double value)
            ? (float)value
            : throw new ModelSpecException(path, $"must be a number, got {element.GetRawText()}.");

    private static string ReadString(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String
            ? element.GetString()!
            : throw new ModelSpecException(path, $"must be a string, got {element.GetRawText()}.");
}
