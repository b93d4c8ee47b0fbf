using System.Globalization;
using DistributedBackprop.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace DistributedBackprop.Cli.Output;

/// <summary>How runs read in tables and status lines.</summary>
internal static class RunText
{
    public static string State(RunState state) => state switch
    {
        RunState.Pending => "pending",
        RunState.Running => "[blue]running[/]",
        RunState.Completed => "[green]completed[/]",
        RunState.Failed => "[red]failed[/]",
        RunState.Cancelled => "[yellow]cancelled[/]",
        _ => "unknown",
    };

    /// <exception cref="ArgumentException">Not a state name.</exception>
    public static RunState ParseState(string name) => name switch
    {
        "pending" => RunState.Pending,
        "running" => RunState.Running,
        "completed" => RunState.Completed,
        "failed" => RunState.Failed,
        "cancelled" => RunState.Cancelled,
        _ => throw new ArgumentException(
            $"--state: '{name}' is not a run state; use pending, running, completed, failed or cancelled."),
    };

    public static string Accuracy(RunProgress progress) =>
        progress.HasLastTestAccuracy ? progress.LastTestAccuracy.ToString("P2", CultureInfo.InvariantCulture) : "-";

    public static string Time(Timestamp? time) =>
        time is null ? "-" : time.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
