using System.Text;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Server.Services;

/// <summary>
/// Everything StartRun checks before it starts anything: the spec rules the coordinator applies, then the checks
/// that need the data (dataset found, batch within the training set, model fits the samples and classes), run
/// against this silo's copy of the dataset. The dataset is cached per process, so the workers placed here later
/// do not read it again.
/// </summary>
internal static class SpecPreflight
{
    // Core option names that live in a sub-message of RunSpec.
    private static readonly Dictionary<string, string> Parents = new(StringComparer.Ordinal)
    {
        ["kind"] = "optimizer",
        ["learningRate"] = "optimizer",
        ["weightDecay"] = "optimizer",
        ["momentum"] = "optimizer",
        ["rho"] = "optimizer",
        ["beta1"] = "optimizer",
        ["beta2"] = "optimizer",
        ["epsilon"] = "optimizer",
        ["centered"] = "optimizer",
        ["warmupSteps"] = "schedule",
        ["stepSize"] = "schedule",
        ["gamma"] = "schedule",
        ["minLearningRate"] = "schedule",
    };

    /// <summary>Every problem with starting <paramref name="spec"/> as run <paramref name="runId"/>.</summary>
    /// <param name="dataRoot">The silo's data directory, searched for dataset names first.</param>
    public static IReadOnlyList<SpecViolation> Check(string runId, RunSpec? spec, string? dataRoot)
    {
        if (spec is null)
        {
            return [new SpecViolation("spec", "spec is not set; give the RunSpec to train.")];
        }

        var violations = RunSpecValidator.Validate(runId, spec).Select(FromMessage).ToList();
        if (violations.Count > 0)
        {
            return violations;
        }

        TrainTestDatasets data;
        try
        {
            data = DatasetCatalog.Default.Load(RunSpecMapping.Dataset(spec), dataRoot);
        }
        catch (Exception exception) when (exception is DatasetException or IOException or ArgumentException)
        {
            string field = spec.DatasetCase == RunSpec.DatasetOneofCase.DatasetName
                ? "spec.dataset_name"
                : "spec.dataset_directory";
            return [new SpecViolation(field, exception.Message)];
        }

        var options = RunSpecMapping.ToTrainingOptions(spec, threads: 1);
        violations.AddRange(options.Validate(data.Train.Count).Select(FromMessage));
        try
        {
            Trainer.CreateModel(RunSpecMapping.ToModelSpec(spec), data.Train, spec.Seed);
        }
        catch (ModelSpecException exception)
        {
            violations.Add(new SpecViolation(ModelFieldPath(spec, exception.Field), exception.Message));
        }
        catch (ArgumentException exception)
        {
            violations.Add(new SpecViolation(ModelFieldPath(spec, "layers"), exception.Message));
        }

        return violations;
    }

    /// <summary>A validator message starts with the field's JSON name ("microBatches (3) must divide…");
    /// this turns that name into the request path.</summary>
    internal static SpecViolation FromMessage(string message)
    {
        int end = 0;
        while (end < message.Length && (char.IsAsciiLetterOrDigit(message[end]) || message[end] is '.' or '_'))
        {
            end++;
        }

        string name = message[..end];
        string field = name switch
        {
            "run" => "run_id",
            "threads" => "spec.threads_per_worker",
            "evaluationBatchSize" => "spec",
            _ => "spec." + (Parents.TryGetValue(name, out var parent) ? parent + "." : "") + SnakeCase(name),
        };
        return new SpecViolation(field, message);
    }

    // Core's model paths ("layers[2].units", "inputShape[0]") in RunSpec terms: the layer list is the
    // LayerList message's field, and a preset's problems belong to the preset.
    private static string ModelFieldPath(RunSpec spec, string corePath)
    {
        if (spec.ModelCase == RunSpec.ModelOneofCase.Preset && corePath.StartsWith("layers", StringComparison.Ordinal))
        {
            return "spec.preset";
        }

        string path = SnakeCase(corePath);
        return path.StartsWith("layers", StringComparison.Ordinal) ? "spec.layers." + path : "spec." + path;
    }

    private static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        foreach (char c in name)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                builder.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
