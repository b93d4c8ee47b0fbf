using DistributedBackprop.Core.Models;

namespace DistributedBackprop.Core.Tests.Models;

public sealed class ModelSpecTests
{
    [Fact]
    public void Mlp_HasTheParameterCountOf784_256_128_10()
    {
        var model = ModelFactory.Create(Presets.Mlp, [1, 28, 28]);

        Assert.Equal((784 * 256) + 256 + (256 * 128) + 128 + (128 * 10) + 10, model.Layout.Count);
        Assert.Equal([10], model.OutputShape);
    }

    [Fact]
    public void Cnn_InfersShapesThroughConvAndPooling()
    {
        var model = ModelFactory.Create(Presets.Cnn, [1, 28, 28]);

        // conv 1->32 (3x3) + BN, conv 32->64 + BN, dense 64*7*7 -> 128, dense 128 -> 10.
        int expected = (32 * 9) + 32 + (4 * 32) + (64 * 32 * 9) + 64 + (4 * 64)
            + (64 * 7 * 7 * 128) + 128 + (128 * 10) + 10;
        Assert.Equal(expected, model.Layout.Count);
        Assert.Equal([10], model.OutputShape);
    }

    [Fact]
    public void ResNet_BuildsWithProjectionsAndGlobalPooling()
    {
        var model = ModelFactory.Create(Presets.ResNet, [1, 28, 28]);

        Assert.Equal([10], model.OutputShape);
        Assert.Contains(model.Layout.Segments, s => s.Name.Contains("projection", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ReadsLayersAndFields()
    {
        var spec = ModelSpecJson.Parse("""
            { "inputShape": [1, 8, 8],
              "layers": [ { "type": "conv2d", "filters": 3, "kernelSize": 3, "stride": 2, "padding": 1 },
                          { "type": "flatten" }, { "type": "dropout", "rate": 0.5 }, { "type": "dense", "units": 2 } ] }
            """);

        Assert.Equal([1, 8, 8], spec.InputShape!);
        Assert.Equal(4, spec.Layers.Count);
        Assert.Equal(new LayerSpec("conv2d") { Filters = 3, KernelSize = 3, Stride = 2, Padding = 1 }, spec.Layers[0]);
        Assert.Equal(0.5f, spec.Layers[2].Rate);
    }

    [Theory]
    [InlineData("""[{"type":"dense","units":4},{"type":"convolution"}]""", "layers[1].type", "unknown layer type")]
    [InlineData("""[{"type":"dense","units":0}]""", "layers[0].units", "positive")]
    [InlineData("""[{"type":"dense","unit":4}]""", "layers[0].unit", "allowed: units, init")]
    [InlineData("""[{"type":"dense","units":"four"}]""", "layers[0].units", "integer")]
    [InlineData("""[{"type":"dropout","rate":1.5}]""", "layers[0].rate", "[0, 1)")]
    [InlineData("""[{"type":"conv2d","filters":4,"kernelSize":-3}]""", "layers[0].kernelSize", "positive")]
    [InlineData("""{"layers":[{"type":"relu"}],"extra":1}""", "extra", "unknown field")]
    [InlineData("""[{"type":"dense","units":4,"init":"random"}]""", "layers[0].init", "he_normal")]
    [InlineData("""[{"type":"conv2d","filters":2,"init":"ones"}]""", "layers[0].init", "fan_in_uniform")]
    public void Invalid_IsRejectedNamingTheField(string json, string field, string message)
    {
        var error = Assert.Throws<ModelSpecException>(() => ModelFactory.Create(ModelSpecJson.Parse(json), [1, 4, 4]));

        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conv2d_Init_Zeros_ClearsWeightsAndBias()
    {
        var (weights, biases) = Conv2dValues("zeros");

        Assert.All(weights, w => Assert.Equal(0f, w));
        Assert.All(biases, b => Assert.Equal(0f, b));
    }

    [Fact]
    public void Conv2d_Init_FanInUniform_DrawsWeightsAndBiasFromOneOverRootFanIn()
    {
        // One input channel and a 3x3 kernel: fanIn 9, bound 1/3.
        var (weights, biases) = Conv2dValues("fan_in_uniform");

        Assert.All(weights.Concat(biases), v => Assert.InRange(v, -1 / 3f, 1 / 3f));
        Assert.Contains(weights, w => w > 0.3f);
        Assert.Contains(weights, w => w < -0.3f);
        Assert.Contains(biases, b => b != 0f);
    }

    [Fact]
    public void Conv2d_Init_Default_IsHeNormalWithZeroBias()
    {
        var (weights, biases) = Conv2dValues(null);

        // He-normal for fanIn 9: std √(2/9) ≈ 0.471; 288 draws give a sample std within ~10% of it.
        double std = Math.Sqrt(weights.Average(w => (double)w * w));
        Assert.InRange(std, 0.42, 0.52);
        Assert.All(biases, b => Assert.Equal(0f, b));
    }

    private static (float[] Weights, float[] Biases) Conv2dValues(string? init)
    {
        string field = init is null ? "" : $", \"init\": \"{init}\"";
        var spec = ModelSpecJson.Parse($"[ {{ \"type\": \"conv2d\", \"filters\": 32, \"kernelSize\": 3{field} }} ]");
        var model = ModelFactory.Create(spec, [1, 6, 6]);
        model.Initialize(11);
        var segments = model.Layout.Segments;
        var weight = segments.Single(s => s.Name.EndsWith("weight", StringComparison.Ordinal));
        var bias = segments.Single(s => s.Name.EndsWith("bias", StringComparison.Ordinal));
        return (model.Parameters.AsSpan(weight.Offset, weight.Length).ToArray(),
            model.Parameters.AsSpan(bias.Offset, bias.Length).ToArray());
    }

    [Fact]
    public void ShapeMismatch_NamesTheLayerIndex()
    {
        // A dense layer straight on an image: the message points at the layer and suggests flatten.
        var spec = ModelSpecJson.Parse("""[{"type":"conv2d","filters":2},{"type":"dense","units":3}]""");

        var error = Assert.Throws<ModelSpecException>(() => ModelFactory.Create(spec, [1, 8, 8]));

        Assert.Equal("layers[1]", error.Field);
        Assert.Contains("flatten", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelLargerThanInput_NamesTheLayerIndex()
    {
        var spec = ModelSpecJson.Parse("""[{"type":"conv2d","filters":2,"kernelSize":9}]""");

        var error = Assert.Throws<ModelSpecException>(() => ModelFactory.Create(spec, [1, 4, 4]));

        Assert.Equal("layers[0]", error.Field);
    }

    [Fact]
    public void TooManyParameters_IsRejectedBeforeAllocation()
    {
        var spec = ModelSpecJson.Parse(
            """[{"type":"flatten"},{"type":"dense","units":100000},{"type":"dense","units":100000}]""");

        var error = Assert.Throws<ModelSpecException>(
            () => ModelFactory.Create(spec, [1, 28, 28], maxParameters: 1_000_000));

        Assert.Equal("layers[1]", error.Field);
        Assert.Contains("at most 1,000,000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJson_IsRejected()
    {
        var error = Assert.Throws<ModelSpecException>(() => ModelSpecJson.Parse("[{"));

        Assert.Equal("$", error.Field);
    }
}
