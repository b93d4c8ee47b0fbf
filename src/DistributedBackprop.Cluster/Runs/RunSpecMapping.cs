using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Training;
using CoreLayerSpec = DistributedBackprop.Core.Models.LayerSpec;
using ProtoLayerSpec = DistributedBackprop.Contracts.V1.LayerSpec;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>
/// Turns a <see cref="RunSpec"/> into the Core library's <see cref="TrainingOptions"/> and <see cref="ModelSpec"/>,
/// so a cluster run and the single-process <see cref="Trainer"/> given the same spec compute the same things.
/// </summary>
public static class RunSpecMapping
{
    private static readonly (string Name, OptimizerKind Kind)[] OptimizerKinds =
    [
        ("sgd", OptimizerKind.Sgd), ("momentum", OptimizerKind.Momentum), ("nesterov", OptimizerKind.Nesterov),
        ("rmsprop", OptimizerKind.RmsProp), ("adam", OptimizerKind.Adam), ("adamw", OptimizerKind.AdamW),
    ];

    private static readonly (string Name, ScheduleKind Kind)[] ScheduleKinds =
    [
        ("", ScheduleKind.Cosine), ("constant", ScheduleKind.Constant), ("step", ScheduleKind.Step),
        ("cosine", ScheduleKind.Cosine),
    ];

    /// <summary>Problems with the optimizer and schedule kinds, which the Core options cannot express.</summary>
    public static IReadOnlyList<string> ValidateKinds(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        string optimizer = spec.Optimizer?.Kind ?? "";
        if (!TryFind(OptimizerKinds, optimizer, out _))
        {
            problems.Add($"optimizer.kind is '{optimizer}'; use one of "
                + $"{string.Join(", ", OptimizerKinds.Select(k => k.Name))}.");
        }

        string schedule = spec.Schedule?.Kind ?? "";
        if (!TryFind(ScheduleKinds, schedule, out _))
        {
            problems.Add($"schedule.kind is '{schedule}'; use constant, step or cosine.");
        }

        return problems;
    }

    /// <summary>The training options of a spec; unset optimizer fields keep the kind's defaults.</summary>
    /// <param name="threads">Compute threads of one worker (no effect on the result).</param>
    public static TrainingOptions ToTrainingOptions(RunSpec spec, int threads)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var schedule = spec.Schedule ?? new ScheduleSpec();
        TryFind(ScheduleKinds, schedule.Kind, out var scheduleKind);
        var defaults = new TrainingOptions();
        return new TrainingOptions
        {
            Epochs = spec.Epochs,
            BatchSize = spec.BatchSize,
            MicroBatches = spec.MicroBatches,
            Optimizer = ToOptimizerSettings(spec.Optimizer ?? new OptimizerSpec()),
            Schedule = scheduleKind,
            WarmupSteps = schedule.WarmupSteps,
            StepSize = schedule.StepSize,
            Gamma = schedule.HasGamma ? schedule.Gamma : defaults.Gamma,
            MinimumLearningRate = schedule.HasMinLearningRate ? schedule.MinLearningRate : defaults.MinimumLearningRate,
            ClipNorm = spec.HasClipNorm ? spec.ClipNorm : 0f,
            ClipValue = spec.HasClipValue ? spec.ClipValue : 0f,
            Seed = spec.Seed,
            Threads = Math.Max(1, threads),
        };
    }

    /// <summary>The model of a spec: a preset, or the layer list with the spec's input shape.</summary>
    /// <exception cref="ModelSpecException">Unknown preset.</exception>
    public static ModelSpec ToModelSpec(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int[]? inputShape = spec.InputShape.Count > 0 ? spec.InputShape.ToArray() : null;
        if (spec.ModelCase == RunSpec.ModelOneofCase.Preset)
        {
            if (!Presets.TryGet(spec.Preset, out var preset))
            {
                throw new ModelSpecException(
                    "preset", $"'{spec.Preset}' is not a preset; use one of {string.Join(", ", Presets.Names)}.");
            }

            return inputShape is null ? preset : preset with { InputShape = inputShape };
        }

        var layers = spec.Layers?.Layers ?? [];
        return new ModelSpec(layers.Select(ToLayerSpec).ToArray(), inputShape);
    }

    /// <summary>The dataset name or directory the catalog loads.</summary>
    public static string Dataset(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.DatasetCase == RunSpec.DatasetOneofCase.DatasetName ? spec.DatasetName : spec.DatasetDirectory;
    }

    private static OptimizerSettings ToOptimizerSettings(OptimizerSpec source)
    {
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

    private static CoreLayerSpec ToLayerSpec(ProtoLayerSpec layer) => new(layer.Type)
    {
        Units = layer.HasUnits ? layer.Units : null,
        Filters = layer.HasFilters ? layer.Filters : null,
        KernelSize = layer.HasKernelSize ? layer.KernelSize : null,
        Stride = layer.HasStride ? layer.Stride : null,
        Padding = layer.HasPadding ? layer.Padding : null,
        Size = layer.HasSize ? layer.Size : null,
        Rate = layer.HasRate ? layer.Rate : null,
        Slope = layer.HasSlope ? layer.Slope : null,
        Momentum = layer.HasMomentum ? layer.Momentum : null,
        Epsilon = layer.HasEpsilon ? layer.Epsilon : null,
        Init = layer.HasInit ? layer.Init : null,
        Body = layer.Body.Count > 0 ? layer.Body.Select(ToLayerSpec).ToArray() : null,
        Projection = layer.Projection.Count > 0 ? layer.Projection.Select(ToLayerSpec).ToArray() : null,
    };

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
