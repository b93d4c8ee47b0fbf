using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>Checks a spec before anything is placed; every problem names the field, its value and what is
/// allowed.</summary>
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

        Positive(errors, "batch_size", spec.BatchSize);
        Positive(errors, "micro_batches", spec.MicroBatches);
        Positive(errors, "epochs", spec.Epochs);
        Positive(errors, "workers", spec.Workers);
        Positive(errors, "parameter_shards", spec.ParameterShards);
        if (spec.MicroBatches > 0 && spec.BatchSize > 0 && spec.BatchSize % spec.MicroBatches != 0)
        {
            errors.Add($"micro_batches is {spec.MicroBatches}, which does not divide batch_size {spec.BatchSize}: "
                + "choose a micro-batch count that divides the batch size.");
        }

        if (spec.Workers > 0 && spec.MicroBatches > 0 && spec.Workers > spec.MicroBatches)
        {
            errors.Add($"workers is {spec.Workers} but micro_batches is {spec.MicroBatches}: every worker needs at "
                + "least one micro-batch, so use at most as many workers as micro-batches.");
        }

        NotNegative(errors, "threads_per_worker", spec.ThreadsPerWorker);
        NotNegative(errors, "evaluate_every_epochs", spec.EvaluateEveryEpochs);
        NotNegative(errors, "step_event_interval", spec.StepEventInterval);
        NotNegative(errors, "max_steps_per_epoch", spec.MaxStepsPerEpoch);
        if (spec.HasClipNorm && !(spec.ClipNorm >= 0f && float.IsFinite(spec.ClipNorm)))
        {
            errors.Add($"clip_norm is {spec.ClipNorm}; use 0 (off) or a positive finite norm.");
        }

        if (spec.HasClipValue && !(spec.ClipValue >= 0f && float.IsFinite(spec.ClipValue)))
        {
            errors.Add($"clip_value is {spec.ClipValue}; use 0 (off) or a positive finite value.");
        }

        errors.AddRange(RunSettings.Validate(spec));
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
