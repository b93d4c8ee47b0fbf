using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace DistributedBackprop.Server.Services;

/// <summary>A coordinator's <see cref="RunStatus"/> as the public <see cref="Run"/>.</summary>
internal static class RunMapping
{
    public static Run ToRun(RunStatus status)
    {
        var progress = new RunProgress
        {
            Epoch = status.Epoch,
            Epochs = status.Spec?.Epochs ?? 0,
            GlobalStep = status.GlobalStep,
            Workers = status.Workers,
        };
        if (!double.IsNaN(status.LastTestAccuracy))
        {
            progress.LastTestAccuracy = status.LastTestAccuracy;
        }

        var run = new Run
        {
            Id = status.RunId,
            State = status.State,
            Spec = status.Spec?.Clone(),
            CreatedTime = Stamp(status.CreatedAt),
            StartedTime = Stamp(status.StartedAt),
            FinishedTime = Stamp(status.FinishedAt),
            Progress = progress,
            LastSequence = status.LastSequence,
        };
        if (status.State is RunState.Failed or RunState.Cancelled)
        {
            run.FailureReason = status.Reason;
        }

        return run;
    }

    private static Timestamp? Stamp(DateTime? time) =>
        time is DateTime t ? Timestamp.FromDateTime(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
}
