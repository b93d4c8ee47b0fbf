using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class DenseTests
{
    [Fact]
    public void Forward_HandComputedExample_MatchesExpected()
    {
        var harness = new LayerHarness(new Dense(2), [3]);

        // weight (2, 3) then bias (2) in the flat vector
        float[] weight = [1, 2, 3, -1, 0, 0.5f];
        float[] bias = [0.5f, -2];
        weight.CopyTo(harness.Parameters, harness.Layout["weight"].Offset);
        bias.CopyTo(harness.Parameters, harness.Layout["bias"].Offset);
        var input = new Tensor([1, 0, -1, 2, 1, 4], 0, 2, 3);

        var output = harness.Layer.Forward(input, LayerHarness.ContextFor(training: true, batch: 2));

        // row 0: (1 + 0 - 3) + 0.5 = -1.5; (-1 + 0 - 0.5) - 2 = -3.5
        // row 1: (2 + 2 + 12) + 0.5 = 16.5; (-2 + 0 + 2) - 2 = -2
        Assert.Equal([2, 2], output.Shape);
        Assert.Equal([-1.5f, -3.5f, 16.5f, -2f], output.Span.ToArray());
    }

    [Fact]
    public void Backward_FiniteDifferences_MatchAnalyticGradients()
    {
        // The objective is linear in each input and parameter, so a unit step is exact and minimises rounding noise.
        var result = GradientCheck.Check(new Dense(7), [5], batch: 4, epsilon: 1f, prepareParameters: RandomizeBias);

        Assert.True(result.MaxInputError < 1e-3, $"input error {result.MaxInputError}");
        Assert.True(result.MaxParameterError < 1e-3, $"parameter error {result.MaxParameterError}");
        Assert.Equal(20 + 35 + 7, result.Checked);
    }

    [Fact]
    public void Backward_CalledTwice_OverwritesParameterGradients()
    {
        var harness = new LayerHarness(new Dense(3), [4]);
        var context = LayerHarness.ContextFor(training: true, batch: 5);
        harness.Layer.Forward(LayerHarness.RandomInput(5, [4], seed: 2), context);
        var outputGradient = LayerHarness.RandomInput(5, [3], seed: 3);

        harness.Layer.Backward(outputGradient, context, needInputGradient: false);
        var first = harness.Gradients.ToArray();
        harness.Layer.Backward(outputGradient, context, needInputGradient: false);

        Assert.Equal(first, harness.Gradients);
    }

    [Fact]
    public void Backward_BiasGradient_IsColumnSumOfOutputGradient()
    {
        var harness = new LayerHarness(new Dense(3), [2]);
        var context = LayerHarness.ContextFor(training: true, batch: 6);
        harness.Layer.Forward(LayerHarness.RandomInput(6, [2], seed: 4), context);
        var outputGradient = LayerHarness.RandomInput(6, [3], seed: 5);

        var inputGradient = harness.Layer.Backward(outputGradient, context, needInputGradient: false);

        Assert.Null(inputGradient);
        var bias = harness.Layout["bias"];
        for (int j = 0; j < 3; j++)
        {
            double expected = 0;
            for (int row = 0; row < 6; row++)
            {
                expected += outputGradient[row * 3 + j];
            }

            Assert.Equal(expected, harness.Gradients[bias.Offset + j], 1e-5);
        }
    }

    [Fact]
    public void ForwardBackward_TwoThreads_BitIdenticalToOne()
    {
        float[] Run(int threads)
        {
            var harness = new LayerHarness(new Dense(33), [65], seed: 9);
            var context = LayerHarness.ContextFor(training: true, batch: 17);
            context.Threads = threads;
            var output = harness.Layer.Forward(LayerHarness.RandomInput(17, [65], seed: 6), context).Span.ToArray();
            var inputGradient = harness.Layer.Backward(LayerHarness.RandomInput(17, [33], seed: 7), context, true)!;
            return [.. output, .. inputGradient.Span.ToArray(), .. harness.Gradients];
        }

        Assert.Equal(Run(1), Run(2));
    }

    [Fact]
    public void Build_DeclaresWeightThenBias()
    {
        var harness = new LayerHarness(new Dense(4), [6]);

        var weight = harness.Layout["weight"];
        var bias = harness.Layout["bias"];
        Assert.Equal([4, 6], weight.Shape);
        Assert.Equal(ParameterKind.Weight, weight.Kind);
        Assert.Equal([4], bias.Shape);
        Assert.Equal(ParameterKind.Bias, bias.Kind);
        Assert.Equal(24, bias.Offset);
        Assert.All(harness.Parameters.AsSpan(bias.Offset, bias.Length).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal([4], harness.Layer.OutputShape);
    }

    [Fact]
    public void Build_ImageInput_ThrowsSuggestingFlatten()
    {
        var error = Assert.Throws<ArgumentException>(
            () => new Dense(4).Build([3, 8, 8], new ParameterLayoutBuilder()));

        Assert.Contains("(3, 8, 8)", error.Message, StringComparison.Ordinal);
        Assert.Contains("flatten", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Constructor_NonPositiveUnits_ThrowsNamingUnits(int units)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(units));

        Assert.Equal("units", error.ParamName);
    }

    [Fact]
    public void Constructor_UnknownInitKind_ThrowsNamingInit()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(3, (InitKind)99));

        Assert.Equal("init", error.ParamName);
    }

    [Fact]
    public void Initialize_LayersInAnyOrder_GiveTheSameValues()
    {
        var builder = new ParameterLayoutBuilder();
        var first = new Dense(5);
        var second = new Dense(3, InitKind.XavierUniform);
        first.Build([4], builder);
        second.Build([5], builder);
        int count = builder.Build().Count;
        var forward = new float[count];
        var backward = new float[count];

        first.Initialize(forward, 42);
        second.Initialize(forward, 42);
        second.Initialize(backward, 42);
        first.Initialize(backward, 42);

        Assert.Equal(forward, backward);
        Assert.Contains(forward, v => v != 0f);
    }

    private static void RandomizeBias(float[] parameters)
    {
        // Biases start at zero; give them values so their gradient check is not trivially about zeros.
        var rng = new DeterministicRandom(11);
        for (int i = 35; i < parameters.Length; i++)
        {
            parameters[i] = (float)rng.NextGaussian();
        }
    }
}
