using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Tests.Optimizers;

/// <summary>Each optimizer against the published formulas in double (<see cref="ReferenceOptimizer"/>).</summary>
public sealed class OptimizerReferenceTests
{
    private const double RelativeTolerance = 1e-6;

    // Absolute floor for elements that cancel towards zero: float rounding of the O(1) operands is ~6e-8.
    private const double AbsoluteTolerance = 1e-7;

    // Learning rates of the three steps: a decaying schedule, so a wrongly cached rate would show.
    private static readonly float[] LearningRates = [0.05f, 0.03f, 0.01f];

    public static TheoryData<string> Configurations => OptimizerTestData.ConfigurationNames;

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Step_ThreeSteps_MatchesDoublePrecisionReference(string configuration)
    {
        var settings = OptimizerTestData.Configuration(configuration);
        var layout = OptimizerTestData.Small();
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 1);
        var expected = parameters.Select(p => (double)p).ToArray();
        var optimizer = Optimizer.Create(settings, layout, 0, layout.Count);
        var reference = new ReferenceOptimizer(settings, layout);

        for (int step = 1; step <= 3; step++)
        {
            // Gradients of mixed magnitudes, so RMSprop and Adam normalise visibly different scales.
            var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 10UL + (ulong)step);
            for (int i = 0; i < gradients.Length; i += 3)
            {
                gradients[i] *= 20f;
            }

            optimizer.Step(parameters, gradients, LearningRates[step - 1], step);
            reference.Step(expected, gradients.Select(g => (double)g).ToArray(), LearningRates[step - 1], step);

            for (int i = 0; i < parameters.Length; i++)
            {
                double tolerance = RelativeTolerance * Math.Abs(expected[i]) + AbsoluteTolerance;
                Assert.True(
                    Math.Abs(parameters[i] - expected[i]) <= tolerance,
                    $"{configuration} step {step} element {i}: got {parameters[i]}, expected {expected[i]}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Step_ThreeSteps_MovesEveryTrainedElement(string configuration)
    {
        // Guards the reference test above against a vacuous pass where nothing is updated.
        var settings = OptimizerTestData.Configuration(configuration);
        var layout = OptimizerTestData.Small();
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 1);
        var initial = parameters.ToArray();
        var optimizer = Optimizer.Create(settings, layout, 0, layout.Count);

        for (int step = 1; step <= 3; step++)
        {
            var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 10UL + (ulong)step);
            optimizer.Step(parameters, gradients, 0.05f, step);
        }

        foreach (var segment in layout.Segments.Where(s => s.IsTrained))
        {
            for (int i = segment.Offset; i < segment.End; i++)
            {
                Assert.True(Math.Abs(parameters[i] - initial[i]) > 1e-4, $"{configuration}: element {i} did not move.");
            }
        }
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Nesterov)]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.AdamW)]
    public void Step_RunningStatistic_BlendsTowardsReducedStatistic(OptimizerKind kind)
    {
        var layout = OptimizerTestData.Small();
        var statistic = layout["runningMean"];
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 2);
        var optimizer = Optimizer.Create(new OptimizerSettings(kind) { WeightDecay = 0.5f }, layout, 0, layout.Count);
        var expected = parameters[statistic.Offset..statistic.End].Select(v => (double)v).ToArray();

        for (int step = 1; step <= 3; step++)
        {
            var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 20UL + (ulong)step);
            optimizer.Step(parameters, gradients, 0.5f, step);
            for (int j = 0; j < expected.Length; j++)
            {
                expected[j] = 0.9 * expected[j] + 0.1 * gradients[statistic.Offset + j];
            }
        }

        for (int j = 0; j < expected.Length; j++)
        {
            Assert.Equal(expected[j], parameters[statistic.Offset + j], 1e-6);
        }
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Momentum)]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    public void Step_WeightDecayWithZeroGradient_ShrinksWeightsButNotBiases(OptimizerKind kind)
    {
        var layout = OptimizerTestData.Small();
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 3);
        var initial = parameters.ToArray();
        var optimizer = Optimizer.Create(new OptimizerSettings(kind) { WeightDecay = 0.1f }, layout, 0, layout.Count);
        var gradients = new float[layout.Count];

        for (int step = 1; step <= 3; step++)
        {
            optimizer.Step(parameters, gradients, 0.01f, step);
        }

        var weight = layout["weight"];
        for (int i = weight.Offset; i < weight.End; i++)
        {
            Assert.True(Math.Abs(parameters[i]) < Math.Abs(initial[i]), $"{kind}: weight {i} did not shrink.");
        }

        var bias = layout["bias"];
        Assert.Equal(
            OptimizerTestData.Bits(initial.AsSpan(bias.Offset, bias.Length)),
            OptimizerTestData.Bits(parameters.AsSpan(bias.Offset, bias.Length)));
    }

    [Fact]
    public void Create_SliceOutsideLayout_Throws()
    {
        var layout = OptimizerTestData.Small();

        var exception = Assert.Throws<ArgumentOutOfRangeException>(
            () => Optimizer.Create(new OptimizerSettings(), layout, 5, layout.Count + 1));

        Assert.Contains("[5, 21)", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_WrongLength_ThrowsNamingBothLengths()
    {
        var layout = OptimizerTestData.Small();
        var optimizer = Optimizer.Create(new OptimizerSettings(), layout, 0, 10);

        var exception = Assert.Throws<ArgumentException>(() => optimizer.Step(new float[10], new float[9], 0.1f, 1));

        Assert.Contains("gradients (9)", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_StepZero_Throws()
    {
        var layout = OptimizerTestData.Small();
        var optimizer = Optimizer.Create(new OptimizerSettings(), layout, 0, layout.Count);

        Assert.Throws<ArgumentOutOfRangeException>(
            () => optimizer.Step(new float[layout.Count], new float[layout.Count], 0.1f, 0));
    }

    [Fact]
    public void Create_RunningStatisticMomentumAboveOne_ThrowsNamingSegment()
    {
        var builder = new ParameterLayoutBuilder();
        builder.Add("norm.runningMean", ParameterKind.RunningStatistic, 1.5f, 4);
        var layout = builder.Build();

        var exception = Assert.Throws<ArgumentException>(
            () => Optimizer.Create(new OptimizerSettings(), layout, 0, layout.Count));

        Assert.Contains("norm.runningMean", exception.Message, StringComparison.Ordinal);
    }
}
