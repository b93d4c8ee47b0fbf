using System.Globalization;
using DistributedBackprop.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace DistributedBackprop.Server.Services;

/// <summary>The TrainingService's errors: a status code, a message that says how to fix the call, and for
/// invalid specs a google.rpc.BadRequest detail with one field violation per problem.</summary>
internal static class RpcErrors
{
    /// <summary>Trailer of a dropped watcher: the after_sequence to call WatchRun with again.</summary>
    public const string ResumeAfterSequenceTrailer = "dbp-resume-after-sequence";

    public static RpcException InvalidSpec(IReadOnlyList<SpecViolation> violations)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(violations.Select(v =>
            new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }));
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = $"Nothing was started: the request has {violations.Count} problem(s). "
                + string.Join(" ", violations.Select(v => $"[{v.Field}] {v.Description}")),
            Details = { Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }

    public static RpcException InvalidArgument(string field, string description) =>
        InvalidSpec([new SpecViolation(field, description)]);

    public static RpcException NotFound(string runId) => new(new Grpc.Core.Status(
        StatusCode.NotFound,
        $"Run '{runId}' does not exist. List the runs with ListRuns (`dbp runs`) and check the id."));

    public static RpcException AlreadyExists(string runId) => new(new Grpc.Core.Status(
        StatusCode.AlreadyExists,
        $"Run '{runId}' already exists with a different spec. Choose another run_id, or leave it unset to get a "
        + "generated one."));

    public static RpcException AlreadyFinished(string runId, RunState state) => new(new Grpc.Core.Status(
        StatusCode.FailedPrecondition,
        $"Run '{runId}' has already ended ({StateName(state)}); only pending or running runs can be cancelled. "
        + "Start a new run instead."));

    public static RpcException SequenceAhead(string runId, ulong afterSequence, ulong lastSequence) => new(
        new Grpc.Core.Status(
            StatusCode.OutOfRange,
            $"after_sequence is {afterSequence} but run '{runId}' has recorded only {lastSequence} events; pass "
            + "the last sequence you received, or 0 for the whole log."));

    public static RpcException WatcherLagged(string runId, ulong resumeAfter, string detail)
    {
        var trailers = new Metadata
        {
            { ResumeAfterSequenceTrailer, resumeAfter.ToString(CultureInfo.InvariantCulture) },
        };
        return new RpcException(
            new Grpc.Core.Status(
                StatusCode.ResourceExhausted,
                $"The watch of run '{runId}' fell too far behind and was ended. {detail} Call WatchRun again with "
                + $"after_sequence = {resumeAfter} to resume without a gap."),
            trailers);
    }

    public static string StateName(RunState state) => state switch
    {
        RunState.Pending => "pending",
        RunState.Running => "running",
        RunState.Completed => "completed",
        RunState.Failed => "failed",
        RunState.Cancelled => "cancelled",
        _ => "unknown",
    };
}
