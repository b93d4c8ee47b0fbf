namespace DistributedBackprop.Core.Optimizers;

/// <summary>How the learning rate changes after warm-up.</summary>
public enum ScheduleKind
{
    /// <summary>The base learning rate throughout.</summary>
    Constant,

    /// <summary>Multiplied by gamma every stepSize steps.</summary>
    Step,

    /// <summary>Cosine annealing from the base rate down to the minimum at totalSteps.</summary>
    Cosine,
}

/// <summary>
/// A learning-rate schedule; <see cref="LearningRateSchedule"/> evaluates it. Immutable; change fields with
/// <c>with { ... }</c>. Steps are 0-based optimizer steps.
/// </summary>
/// <param name="Kind">The shape of the schedule after warm-up.</param>
/// <param name="BaseLearningRate">The rate reached at the end of warm-up; must be &gt; 0.</param>
public sealed record ScheduleSettings(ScheduleKind Kind, float BaseLearningRate)
{
    /// <summary>Steps of linear warm-up, during which step s uses base·(s + 1)/warmupSteps; 0 for none.</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Step kind: steps between two decays, counted from the end of warm-up; must be &gt;= 1.</summary>
    public long StepSize { get; init; }

    /// <summary>Step kind: the factor applied at each decay, in (0, 1].</summary>
    public float Gamma { get; init; } = 0.1f;

    /// <summary>Cosine kind: the step, warm-up included, from which the rate stays at the minimum;
    /// must exceed <see cref="WarmupSteps"/>.</summary>
    public long TotalSteps { get; init; }

    /// <summary>Cosine kind: the rate the annealing ends at, in [0, base learning rate].</summary>
    public float MinimumLearningRate { get; init; }

    /// <summary>Every problem with these settings, each naming the field, the value and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(Kind))
        {
            problems.Add($"kind must be one of {string.Join(", ", Enum.GetNames<ScheduleKind>())}, got {(int)Kind}");
        }

        if (!(BaseLearningRate > 0f) || !float.IsFinite(BaseLearningRate))
        {
            problems.Add($"baseLearningRate must be > 0 and finite, got {BaseLearningRate}");
        }

        if (WarmupSteps < 0)
        {
            problems.Add($"warmupSteps must be >= 0, got {WarmupSteps}");
        }

        if (Kind == ScheduleKind.Step)
        {
            if (StepSize < 1)
            {
                problems.Add($"stepSize must be >= 1 for kind Step, got {StepSize}");
            }

            if (!(Gamma > 0f && Gamma <= 1f))
            {
                problems.Add($"gamma must be in (0, 1] for kind Step, got {Gamma}");
            }
        }

        if (Kind == ScheduleKind.Cosine)
        {
            if (TotalSteps <= WarmupSteps)
            {
                problems.Add($"totalSteps must be > warmupSteps ({WarmupSteps}) for kind Cosine, got {TotalSteps}");
            }

            if (!(MinimumLearningRate >= 0f && MinimumLearningRate <= BaseLearningRate))
            {
                problems.Add(
                    $"minimumLearningRate must be in [0, baseLearningRate ({BaseLearningRate})] for kind Cosine, "
                    + $"got {MinimumLearningRate}");
            }
        }

        return problems;
    }
}
