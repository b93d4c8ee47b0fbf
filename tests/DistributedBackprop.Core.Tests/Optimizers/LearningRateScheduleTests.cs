using DistributedBackprop.Core.Optimizers;

namespace DistributedBackprop.Core.Tests.Optimizers;

public sealed class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.025)]
    [InlineData(1, 0.05)]
    [InlineData(3, 0.1)]
    [InlineData(4, 0.1)]
    [InlineData(1000, 0.1)]
    public void LearningRateAt_ConstantWithWarmup_RampsLinearlyThenHolds(long step, double expected)
    {
        var schedule = new LearningRateSchedule(new ScheduleSettings(ScheduleKind.Constant, 0.1f) { WarmupSteps = 4 });

        Assert.Equal(expected, schedule.LearningRateAt(step), 1e-8);
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(9, 0.1)]
    [InlineData(10, 0.05)]
    [InlineData(19, 0.05)]
    [InlineData(25, 0.025)]
    public void LearningRateAt_StepDecay_HalvesEveryTenSteps(long step, double expected)
    {
        var schedule = new LearningRateSchedule(
            new ScheduleSettings(ScheduleKind.Step, 0.1f) { StepSize = 10, Gamma = 0.5f });

        Assert.Equal(expected, schedule.LearningRateAt(step), 1e-8);
    }

    [Theory]
    [InlineData(0, 0.05)]
    [InlineData(1, 0.1)]
    [InlineData(11, 0.1)]
    [InlineData(12, 0.05)]
    public void LearningRateAt_StepDecayAfterWarmup_CountsFromEndOfWarmup(long step, double expected)
    {
        var schedule = new LearningRateSchedule(
            new ScheduleSettings(ScheduleKind.Step, 0.1f) { WarmupSteps = 2, StepSize = 10, Gamma = 0.5f });

        Assert.Equal(expected, schedule.LearningRateAt(step), 1e-8);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(25, 0.85355339059327373)] // (1 + cos(π/4)) / 2
    [InlineData(50, 0.5)]
    [InlineData(75, 0.14644660940672624)] // (1 - cos(π/4)) / 2
    [InlineData(100, 0.0)]
    [InlineData(150, 0.0)]
    public void LearningRateAt_Cosine_AnnealsToZeroAtTotalSteps(long step, double expected)
    {
        var schedule = new LearningRateSchedule(new ScheduleSettings(ScheduleKind.Cosine, 1f) { TotalSteps = 100 });

        Assert.Equal(expected, schedule.LearningRateAt(step), 1e-7);
    }

    [Theory]
    [InlineData(4, 0.5)]
    [InlineData(9, 1.0)]
    [InlineData(10, 1.0)]
    [InlineData(60, 0.55)] // halfway: 0.1 + 0.9 · 0.5
    [InlineData(110, 0.1)]
    [InlineData(500, 0.1)]
    public void LearningRateAt_CosineWithWarmupAndMinimum_EndsAtMinimum(long step, double expected)
    {
        var schedule = new LearningRateSchedule(new ScheduleSettings(ScheduleKind.Cosine, 1f)
        {
            WarmupSteps = 10,
            TotalSteps = 110,
            MinimumLearningRate = 0.1f,
        });

        Assert.Equal(expected, schedule.LearningRateAt(step), 1e-7);
    }

    [Fact]
    public void LearningRateAt_NegativeStep_Throws()
    {
        var schedule = new LearningRateSchedule(new ScheduleSettings(ScheduleKind.Constant, 0.1f));

        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.LearningRateAt(-1));
    }

    [Fact]
    public void Validate_StepKindWithBadFields_ListsEveryProblemByField()
    {
        var settings = new ScheduleSettings(ScheduleKind.Step, -0.1f) { WarmupSteps = -2, StepSize = 0, Gamma = 1.5f };

        var problems = settings.Validate();

        Assert.Equal(
            [
                "baseLearningRate must be > 0 and finite, got -0.1",
                "warmupSteps must be >= 0, got -2",
                "stepSize must be >= 1 for kind Step, got 0",
                "gamma must be in (0, 1] for kind Step, got 1.5",
            ],
            problems);
    }

    [Fact]
    public void Constructor_CosineWithoutTotalSteps_ThrowsNamingTotalSteps()
    {
        var settings = new ScheduleSettings(ScheduleKind.Cosine, 0.1f) { WarmupSteps = 5, MinimumLearningRate = 0.2f };

        var exception = Assert.Throws<ArgumentException>(() => new LearningRateSchedule(settings));

        Assert.Contains(
            "totalSteps must be > warmupSteps (5) for kind Cosine, got 0", exception.Message, StringComparison.Ordinal);
        Assert.Contains(
            "minimumLearningRate must be in [0, baseLearningRate (0.1)]", exception.Message, StringComparison.Ordinal);
    }
}
