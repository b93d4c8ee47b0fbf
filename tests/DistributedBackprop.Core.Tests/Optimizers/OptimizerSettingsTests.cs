using DistributedBackprop.Core.Optimizers;

namespace DistributedBackprop.Core.Tests.Optimizers;

public sealed class OptimizerSettingsTests
{
    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Momentum)]
    [InlineData(OptimizerKind.Nesterov)]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    public void Validate_DefaultsOfEachKind_AreValid(OptimizerKind kind)
    {
        Assert.Empty(new OptimizerSettings(kind).Validate());
    }

    [Fact]
    public void Defaults_AdamAndRmsProp_MatchPublishedDefaults()
    {
        var adam = new OptimizerSettings();
        var rmsProp = new OptimizerSettings(OptimizerKind.RmsProp);
        var momentum = new OptimizerSettings(OptimizerKind.Momentum);

        Assert.Equal(
            (OptimizerKind.Adam, 1e-3f, 0.9f, 0.999f, 1e-8f),
            (adam.Kind, adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon));
        Assert.Equal((0.99f, 1e-8f, 0f, false), (rmsProp.Rho, rmsProp.Epsilon, rmsProp.Momentum, rmsProp.Centered));
        Assert.Equal(0.9f, momentum.Momentum);
        Assert.Equal(0f, adam.WeightDecay);
    }

    [Fact]
    public void Validate_NegativeLearningRate_NamesFieldValueAndRange()
    {
        var settings = new OptimizerSettings(OptimizerKind.Sgd) { LearningRate = -0.1f };

        Assert.Equal(["learningRate must be > 0 and finite, got -0.1"], settings.Validate());
    }

    [Fact]
    public void Validate_AdamWithSeveralBadFields_ListsEveryProblem()
    {
        var settings = new OptimizerSettings(OptimizerKind.Adam)
        {
            LearningRate = float.PositiveInfinity,
            Beta1 = 1f,
            Beta2 = -0.5f,
            Epsilon = 0f,
            WeightDecay = -1f,
        };

        Assert.Equal(
            [
                "learningRate must be > 0 and finite, got Infinity",
                "weightDecay must be >= 0 and finite, got -1",
                "beta1 must be in [0, 1), got 1",
                "beta2 must be in [0, 1), got -0.5",
                "epsilon must be > 0 and finite, got 0",
            ],
            settings.Validate());
    }

    [Fact]
    public void Validate_RmsPropWithBadFields_NamesRhoAndMomentum()
    {
        var settings = new OptimizerSettings(OptimizerKind.RmsProp) { Rho = 1f, Momentum = -0.1f };

        Assert.Equal(
            ["momentum must be in [0, 1) for kind RmsProp, got -0.1", "rho must be in [0, 1), got 1"],
            settings.Validate());
    }

    [Fact]
    public void Validate_SgdWithMomentum_PointsToMomentumKinds()
    {
        var settings = new OptimizerSettings(OptimizerKind.Sgd) { Momentum = 0.9f };

        var problem = Assert.Single(settings.Validate());

        Assert.Equal("momentum must be 0 for kind Sgd, got 0.9; choose kind Momentum or Nesterov", problem);
    }

    [Fact]
    public void Validate_NesterovWithZeroMomentumAndCentered_ListsBoth()
    {
        var settings = new OptimizerSettings(OptimizerKind.Nesterov) { Momentum = 0f, Centered = true };

        Assert.Equal(
            [
                "momentum must be in (0, 1) for kind Nesterov, got 0",
                "centered applies to kind RmsProp only, got true for kind Nesterov",
            ],
            settings.Validate());
    }

    [Fact]
    public void Create_InvalidSettings_ThrowsListingEveryProblem()
    {
        var settings = new OptimizerSettings(OptimizerKind.Adam) { LearningRate = 0f, Beta2 = 2f };

        var exception = Assert.Throws<ArgumentException>(
            () => Optimizer.Create(settings, OptimizerTestData.Small(), 0, 20));

        Assert.Contains("learningRate must be > 0 and finite, got 0", exception.Message, StringComparison.Ordinal);
        Assert.Contains("beta2 must be in [0, 1), got 2", exception.Message, StringComparison.Ordinal);
    }
}
