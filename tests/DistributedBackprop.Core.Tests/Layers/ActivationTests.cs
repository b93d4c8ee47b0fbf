using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Layers;

public sealed class ActivationTests
{
    public static TheoryData<string> Names => ["relu", "leaky_relu", "sigmoid", "tanh", "gelu"];

    [Theory]
    [MemberData(nameof(Names))]
    public void Backward_FiniteDifferences_MatchAnalyticGradient(string name)
    {
        // ReLU-family layers are linear on each side of 0, so a float step that never reaches the kink is exact;
        // smooth ones are differenced on a double-precision reference, free of the float forward's rounding.
        bool piecewiseLinear = name is "relu" or "leaky_relu";
        var result = GradientCheck.Check(
            Create(name),
            [3, 5],
            batch: 4,
            epsilon: 0.05f,
            maxChecksPerTensor: 60,
            prepareInput: KeepAwayFromZero,
            doubleForward: piecewiseLinear ? null : (input, _) => input.Select(x => Reference(name, x)).ToArray());

        Assert.True(result.MaxInputError < 1e-3, $"{name}: input error {result.MaxInputError}");
        Assert.True(result.MaxForwardError < 1e-6, $"{name}: forward error {result.MaxForwardError}");
        Assert.Equal(60, result.Checked);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_MatchesDoublePrecisionReference(string name)
    {
        var layer = Create(name);
        _ = new LayerHarness(layer, [50]);
        var input = LayerHarness.RandomInput(4, [50], seed: 8);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] *= 3;
        }

        var output = layer.Forward(input, LayerHarness.ContextFor(training: true, batch: 4));

        Assert.Equal(input.Shape, output.Shape);
        for (int i = 0; i < input.Length; i++)
        {
            double expected = Reference(name, input[i]);
            Assert.True(
                Math.Abs(output[i] - expected) <= 1e-6 + 1e-5 * Math.Abs(expected),
                $"{name}({input[i]}) = {output[i]}, expected {expected}");
        }
    }

    [Fact]
    public void ReLU_Backward_ZeroGradientForNegativeAndZeroInputs()
    {
        var layer = new ReLU();
        _ = new LayerHarness(layer, [4]);
        var context = LayerHarness.ContextFor(training: true, batch: 1);
        layer.Forward(new Tensor([-2f, 0f, 1e-30f, 3f], 0, 1, 4), context);

        var inputGradient = layer.Backward(new Tensor([1f, 1f, 1f, 1f], 0, 1, 4), context, true)!;

        Assert.Equal([0f, 0f, 1f, 1f], inputGradient.Span.ToArray());
    }

    [Fact]
    public void Backward_InputGradientNotNeeded_ReturnsNull()
    {
        var layer = new Tanh();
        _ = new LayerHarness(layer, [2]);
        var context = LayerHarness.ContextFor(training: true, batch: 1);
        layer.Forward(new Tensor(1, 2), context);

        Assert.Null(layer.Backward(new Tensor(1, 2), context, needInputGradient: false));
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void LeakyReLU_SlopeOutsideUnitInterval_ThrowsNamingSlope(float slope)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyReLU(slope));

        Assert.Equal("slope", error.ParamName);
    }

    private static Layer Create(string name) => name switch
    {
        "relu" => new ReLU(),
        "leaky_relu" => new LeakyReLU(0.1f),
        "sigmoid" => new Sigmoid(),
        "tanh" => new Tanh(),
        "gelu" => new Gelu(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown activation."),
    };

    private static double Reference(string name, double x) => name switch
    {
        "relu" => Math.Max(x, 0),
        "leaky_relu" => x > 0 ? x : 0.1 * x,
        "sigmoid" => 1 / (1 + Math.Exp(-x)),
        "tanh" => Math.Tanh(x),
        "gelu" => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown activation."),
    };

    // Finite differences straddling ReLU's kink at 0 are meaningless; shift inputs at least 0.1 away from it.
    private static void KeepAwayFromZero(Tensor input)
    {
        for (int i = 0; i < input.Length; i++)
        {
            input[i] += input[i] >= 0 ? 0.1f : -0.1f;
        }
    }
}
