using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Models;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>Checks a spec before anything is placed; every problem names the field (by its JSON name), its
/// value and what is allowed. Checks that need the data (batch size against the rows, the model against the
/// sample shape) run when the workers open the dataset.</summary>
public static class RunSpecValidator
{
    /// <summary>All problems with <paramref name="spec"/> for run <paramref name="runId"/>; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(string runId, RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<string>();
        if (!RunGrainKey.IsValidRunId(runId))
        {
            errors.Add($"run id '{runId}' is invalid: use 1-64 letters, digits, '.', '_' or '-'.");
        }

        if (spec.ModelCase == RunSpec.ModelOneofCase.None)
        {
            errors.Add("model is not set: give a preset (e.g. \"mlp\") or a layer list.");
        }

        if (spec.DatasetCase == RunSpec.DatasetOneofCase.None)
        {
            errors.Add("dataset is not set: give dataset_name (e.g. \"fashion-mnist\") or dataset_directory.");
        }

        // The fields one process also has are checked by the Core options, with the same messages.
        var kinds = RunSpecMapping.ValidateKinds(spec);
        errors.AddRange(kinds);
        if (kinds.Count == 0)
        {
            errors.AddRange(RunSpecMapping.ToTrainingOptions(spec, threads: 1).Validate());
        }

        if (spec.ModelCase == RunSpec.ModelOneofCase.Preset && !Presets.TryGet(spec.Preset, out _))
        {
            errors.Add($"preset is '{spec.Preset}'; use one of {string.Join(", ", Presets.Names)}, or give layers.");
        }

        Positive(errors, "workers", spec.Workers);
        Positive(errors, "parameterShards", spec.ParameterShards);
        if (spec.Workers > 0 && spec.MicroBatches > 0 && spec.Workers > spec.MicroBatches)
        {
            errors.Add($"workers is {spec.Workers} but microBatches is {spec.MicroBatches}: every worker needs at "
                + "least one micro-batch, so use at most as many workers as micro-batches.");
        }

        NotNegative(errors, "threadsPerWorker", spec.ThreadsPerWorker);
        NotNegative(errors, "evaluateEveryEpochs", spec.EvaluateEveryEpochs);
        NotNegative(errors, "stepEventInterval", spec.StepEventInterval);
        return errors;
    }

    private static void Positive(List<string> errors, string field, int value)
    {
        if (value < 1)
        {
            errors.Add($"{field} is {value}; it must be at least 1.");
        }
    }

    private static void NotNegative(List<string> errors, string field, int value)
    {
        if (value < 0)
        {
            errors.Add($"{field} is {value}; it must be 0 or more.");
        }
    }
}
