using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Optimizers;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>Maps a spec's optimizer and schedule onto the Core library's settings, and validates them with the
/// Core validators so the cluster accepts exactly what one process accepts.</summary>
public static class RunSettings
{
    private static readonly (string Name, OptimizerKind Kind)[] OptimizerKinds =
    [
        ("sgd", OptimizerKind.Sgd), ("momentum", OptimizerKind.Momentum), ("nesterov", OptimizerKind.Nesterov),
        ("rmsprop", OptimizerKind.RmsProp), ("adam", OptimizerKind.Adam), ("adamw", OptimizerKind.AdamW),
    ];

    private static readonly (string Name, ScheduleKind Kind)[] ScheduleKinds =
    [
        ("", ScheduleKind.Constant), ("constant", ScheduleKind.Constant), ("step", ScheduleKind.Step),
        ("cosine", ScheduleKind.Cosine),
    ];

    /// <summary>Every problem with the optimizer and schedule fields, each prefixed with its field path.</summary>
    public static IReadOnlyList<string> Validate(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<string>();
        string optimizerKind = spec.Optimizer?.Kind ?? "";
        if (!TryFind(OptimizerKinds, optimizerKind, out _))
        {
            errors.Add($"optimizer.kind is '{optimizerKind}'; use one of "
                + $"{string.Join(", ", OptimizerKinds.Select(k => k.Name))}.");
            return errors;
        }

        var optimizer = Optimizer(spec);
        errors.AddRange(optimizer.Validate().Select(p => $"optimizer: {p}."));

        string scheduleKind = spec.Schedule?.Kind ?? "";
        if (!TryFind(ScheduleKinds, scheduleKind, out _))
        {
            errors.Add($"schedule.kind is '{scheduleKind}'; use constant, step or cosine.");
            return errors;
        }

        // The run's length is known only once the dataset is open; any length past warm-up is valid here.
        long anyLength = Math.Max(1, (long)(spec.Schedule?.WarmupSteps ?? 0) + 1);
        errors.AddRange(Schedule(spec, anyLength).Validate().Select(p => $"schedule: {p}."));
        return errors;
    }

    /// <summary>The optimizer settings of a validated spec; unset fields keep the kind's defaults.</summary>
    public static OptimizerSettings Optimizer(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var source = spec.Optimizer ?? new OptimizerSpec();
        TryFind(OptimizerKinds, source.Kind, out var kind);
        var settings = new OptimizerSettings(kind);
        return settings with
        {
            LearningRate = source.HasLearningRate ? source.LearningRate : settings.LearningRate,
            Momentum = source.HasMomentum ? source.Momentum : settings.Momentum,
            Beta1 = source.HasBeta1 ? source.Beta1 : settings.Beta1,
            Beta2 = source.HasBeta2 ? source.Beta2 : settings.Beta2,
            Epsilon = source.HasEpsilon ? source.Epsilon : settings.Epsilon,
            Rho = source.HasRho ? source.Rho : settings.Rho,
            Centered = source.HasCentered ? source.Centered : settings.Centered,
            WeightDecay = source.HasWeightDecay ? source.WeightDecay : settings.WeightDecay,
        };
    }

    /// <summary>The schedule of a validated spec for a run of <paramref name="totalSteps"/> optimizer steps.</summary>
    public static ScheduleSettings Schedule(RunSpec spec, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var source = spec.Schedule ?? new ScheduleSpec();
        TryFind(ScheduleKinds, source.Kind, out var kind);
        var settings = new ScheduleSettings(kind, Optimizer(spec).LearningRate);
        return settings with
        {
            WarmupSteps = source.WarmupSteps,
            StepSize = source.StepSize,
            Gamma = source.HasGamma ? source.Gamma : settings.Gamma,
            MinimumLearningRate = source.HasMinLearningRate ? source.MinLearningRate : settings.MinimumLearningRate,
            TotalSteps = totalSteps,
        };
    }

    private static bool TryFind<T>((string Name, T Kind)[] kinds, string name, out T kind)
    {
        foreach (var entry in kinds)
        {
            if (string.Equals(entry.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                kind = entry.Kind;
                return true;
            }
        }

        kind = kinds[0].Kind;
        return false;
    }
}
