using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class ResidualBlockTests
{
    private const double Tolerance = 1e-3;

    // Two normalisations and two ReLU kinks make float finite differences too coarse, so the numeric side comes
    // from a double-precision reference of the same block.
    [Fact]
    public void Backward_BasicBlockIdentitySkip_MatchesDoublePrecisionDifferences()
    {
        var block = ResidualBlock.Basic(3, 3, 1);

        var result = GradientCheck.CheckAgainstReference(
            block,
            [3, 5, 4],
            batch: 3,
            (layout, input, parameters) => DoubleReference.BasicBlock(
                layout, parameters, new(input, 3, 3, 5, 4), filters: 3, stride: 1, projection: false),
            maxChecksPerTensor: 32);

        Assert.Null(block.Projection);
        Assert.True(result.MaxOutputError < 1e-4, $"forward differs from the reference by {result.MaxOutputError}");
        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < Tolerance, $"parameter gradient error {result.MaxParameterError}");
    }

    [Fact]
    public void Backward_BasicBlockWithProjection_MatchesDoublePrecisionDifferences()
    {
        var block = ResidualBlock.Basic(2, 4, 2);

        var result = GradientCheck.CheckAgainstReference(
            block,
            [2, 6, 5],
            batch: 3,
            (layout, input, parameters) => DoubleReference.BasicBlock(
                layout, parameters, new(input, 3, 2, 6, 5), filters: 4, stride: 2, projection: true),
            maxChecksPerTensor: 32);

        Assert.NotNull(block.Projection);
        Assert.True(result.MaxOutputError < 1e-4, $"forward differs from the reference by {result.MaxOutputError}");
        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < Tolerance, $"parameter gradient error {result.MaxParameterError}");
    }

    [Fact]
    public void Backward_ConvolutionBodyIdentitySkip_MatchesDoublePrecisionDifferences()
    {
        static double[] Reference(ParameterLayout layout, double[] input, double[] parameters)
        {
            var image = new DoubleReference.Image(input, 2, 3, 5, 4);
            var weight = parameters.AsSpan(layout["body.0.weight"].Offset, layout["body.0.weight"].Length);
            var bias = parameters.AsSpan(layout["body.0.bias"].Offset, layout["body.0.bias"].Length);
            var body = DoubleReference.Convolution(image, weight, bias, filters: 3, kernel: 3, stride: 1, padding: 1);
            return DoubleReference.Relu(DoubleReference.Add(body, image)).Values;
        }

        var result = GradientCheck.CheckAgainstReference(
            new ResidualBlock([new Conv2D(3, 3, 1, 1)]), [3, 5, 4], batch: 2, Reference);

        Assert.True(result.MaxOutputError < 1e-4, $"forward differs from the reference by {result.MaxOutputError}");
        Assert.True(result.MaxInputError < Tolerance, $"input gradient error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < Tolerance, $"parameter gradient error {result.MaxParameterError}");
    }

    [Fact]
    public void Forward_IdentitySkip_EqualsReluOfBodyPlusInput()
    {
        var block = new LayerHarness(new ResidualBlock([new Conv2D(2, 3, 1, 1)]), [2, 4, 4]);
        var conv = new LayerHarness(new Conv2D(2, 3, 1, 1), [2, 4, 4]);
        block.Parameters.CopyTo(conv.Parameters, 0);
        var input = LayerHarness.RandomTensor(5, 3, 2, 4, 4);
        var context = LayerHarness.Context(3);

        var output = block.Layer.Forward(input, context).Span.ToArray();
        var body = conv.Layer.Forward(input, context);

        for (int i = 0; i < output.Length; i++)
        {
            Assert.Equal(Math.Max(0f, body[i] + input[i]), output[i]);
        }
    }

    [Fact]
    public void Build_SubLayers_DeclareScopedParameterNames()
    {
        var harness = new LayerHarness(ResidualBlock.Basic(2, 4, 2), [2, 6, 6]);

        string[] names = harness.Layout.Segments.Select(s => s.Name).ToArray();

        Assert.Equal([4, 3, 3], harness.Layer.OutputShape);
        Assert.Contains("body.0.weight", names);
        Assert.Contains("body.1.running_var", names);
        Assert.Contains("body.3.weight", names);
        Assert.Contains("body.4.gamma", names);
        Assert.Contains("projection.0.weight", names);
        Assert.Contains("projection.1.beta", names);
        Assert.Equal([4, 2, 1, 1], harness.Layout["projection.0.weight"].Shape);
        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Fact]
    public void Build_BodyChangesShapeWithoutProjection_ThrowsNamingBothShapes()
    {
        var block = new ResidualBlock([new Conv2D(4, 3, 2, 1)]);

        var error = Assert.Throws<ArgumentException>(() => block.Build([2, 6, 6], new ParameterLayoutBuilder()));

        Assert.Contains("(4, 3, 3)", error.Message, StringComparison.Ordinal);
        Assert.Contains("(2, 6, 6)", error.Message, StringComparison.Ordinal);
        Assert.Contains("projection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Basic_SameChannelsStrideOne_HasIdentitySkip()
    {
        Assert.Null(ResidualBlock.Basic(8, 8, 1).Projection);
        Assert.NotNull(ResidualBlock.Basic(8, 16, 1).Projection);
        Assert.NotNull(ResidualBlock.Basic(8, 8, 2).Projection);
    }

    [Fact]
    public void ForwardBackward_ThreadCounts_BitIdentical()
    {
        float[]? referenceOutput = null;
        float[]? referenceInputGradient = null;
        float[]? referenceGradients = null;
        foreach (int threads in new[] { 1, 2, 4 })
        {
            var harness = new LayerHarness(ResidualBlock.Basic(3, 4, 2), [3, 8, 7]);
            var input = LayerHarness.RandomTensor(3, 5, 3, 8, 7);
            var context = LayerHarness.Context(5, threads: threads);

            var output = harness.Layer.Forward(input, context).Span.ToArray();
            var outputGradient = LayerHarness.RandomTensor(4, ShapeUtil.WithBatch(5, harness.Layer.OutputShape));
            var inputGradient = harness.Layer.Backward(outputGradient, context, true)!.Span.ToArray();

            referenceOutput ??= output;
            referenceInputGradient ??= inputGradient;
            referenceGradients ??= harness.Gradients.ToArray();
            Assert.Equal(referenceOutput, output);
            Assert.Equal(referenceInputGradient, inputGradient);
            Assert.Equal(referenceGradients, harness.Gradients);
        }
    }
}
