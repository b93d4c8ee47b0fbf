using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Runs;

/// <summary>Maps a spec's optimizer and schedule onto the Core library's settings.</summary>
/// <remarks>Scaffold until the Core optimizers land: only checks the optimizer kind.</remarks>
internal static class RunSettings
{
    private static readonly string[] Kinds = ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"];

    public static IReadOnlyList<string> Validate(RunSpec spec)
    {
        var errors = new List<string>();
        string kind = spec.Optimizer?.Kind ?? "";
        if (!Kinds.Contains(kind, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"optimizer.kind is '{kind}'; use one of {string.Join(", ", Kinds)}.");
        }

        return errors;
    }
}
