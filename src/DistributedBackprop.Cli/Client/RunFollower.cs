using System.Globalization;
using DistributedBackprop.Contracts.V1;
using Grpc.Core;

namespace DistributedBackprop.Cli.Client;

/// <summary>Follows a run's event stream to its terminal event, resuming without gap or duplicate when the
/// server drops a watcher that fell behind (it names the sequence to resume after).</summary>
internal static class RunFollower
{
    private const string ResumeTrailer = "dbp-resume-after-sequence";

    /// <summary>Passes every event after <paramref name="afterSequence"/> to <paramref name="onEvent"/>, in
    /// order; returns the terminal event, or null if the server ended the stream without one.</summary>
    public static async Task<RunEvent?> FollowAsync(
        TrainingService.TrainingServiceClient client,
        string runId,
        ulong afterSequence,
        Action<RunEvent> onEvent,
        CancellationToken cancellation)
    {
        ulong last = afterSequence;
        while (true)
        {
            try
            {
                using var call = client.WatchRun(
                    new WatchRunRequest { RunId = runId, AfterSequence = last },
                    cancellationToken: cancellation);
                await foreach (var runEvent in call.ResponseStream.ReadAllAsync(cancellation))
                {
                    onEvent(runEvent);
                    last = runEvent.Sequence;
                    if (IsTerminal(runEvent))
                    {
                        return runEvent;
                    }
                }

                return null;
            }
            catch (RpcException exception) when (exception.StatusCode == StatusCode.ResourceExhausted
                && exception.Trailers.GetValue(ResumeTrailer) is { } resume)
            {
                last = Math.Max(last, ulong.Parse(resume, CultureInfo.InvariantCulture));
            }
        }
    }

    public static bool IsTerminal(RunEvent runEvent) => runEvent.EventCase is RunEvent.EventOneofCase.RunCompleted
        or RunEvent.EventOneofCase.RunFailed or RunEvent.EventOneofCase.RunCancelled;

    /// <summary>The process exit code for a run that ended with <paramref name="terminal"/>.</summary>
    public static int ExitCode(RunEvent? terminal) => terminal?.EventCase switch
    {
        RunEvent.EventOneofCase.RunCompleted => 0,
        RunEvent.EventOneofCase.RunCancelled => 130,
        _ => 1,
    };
}
