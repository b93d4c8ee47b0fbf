using System.Globalization;
using DistributedBackprop.Cluster;
using DistributedBackprop.Cluster.Coordinator;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Registry;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DistributedBackprop.Server.Services;

/// <summary>
/// The public TrainingService: a thin layer over the run grains. Specs are checked in full before a
/// coordinator is touched, so an invalid request starts nothing; every later answer comes from the run's
/// coordinator (the owner of its state) or the run registry (for listing).
/// </summary>
internal sealed partial class TrainingGrpcService(
    IGrainFactory grains,
    IOptions<TrainingSiloOptions> training,
    IOptions<ServerOptions> server,
    ILogger<TrainingGrpcService> logger) : TrainingService.TrainingServiceBase
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 1000;

    public override async Task<Run> StartRun(StartRunRequest request, ServerCallContext context)
    {
        string runId = request.HasRunId ? request.RunId : "run-" + Guid.NewGuid().ToString("N")[..12];

        // Loading the dataset for the checks can take a second; keep it off the request's thread.
        var violations = await Task.Run(
            () => SpecPreflight.Check(runId, request.Spec, training.Value.DataDirectory),
            context.CancellationToken);
        if (violations.Count > 0)
        {
            LogRejected(runId, violations.Count);
            throw RpcErrors.InvalidSpec(violations);
        }

        var coordinator = grains.GetGrain<ICoordinatorGrain>(runId);
        RunStatus status;
        try
        {
            status = await coordinator.StartAsync(request.Spec);
        }
        catch (InvalidOperationException)
        {
            throw RpcErrors.AlreadyExists(runId);
        }
        catch (ArgumentException exception)
        {
            throw RpcErrors.InvalidArgument("spec", exception.Message);
        }

        LogAccepted(runId);
        return RunMapping.ToRun(status);
    }

    public override async Task<Run> GetRun(GetRunRequest request, ServerCallContext context) =>
        RunMapping.ToRun(await RequireRunAsync(request.RunId));

    public override async Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context)
    {
        int pageSize = request.PageSize switch
        {
            < 0 => throw RpcErrors.InvalidArgument(
                "page_size", $"page_size is {request.PageSize}; use 0 (the default, 50) or up to 1000."),
            0 => DefaultPageSize,
            _ => Math.Min(request.PageSize, MaxPageSize),
        };
        int before = 0;
        if (request.PageToken.Length > 0
            && (!int.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out before)
                || before < 1))
        {
            throw RpcErrors.InvalidArgument(
                "page_token",
                $"page_token '{request.PageToken}' was not returned by ListRuns; pass a next_page_token unchanged, "
                + "or leave it empty for the first page.");
        }

        var registry = grains.GetGrain<IRunRegistryGrain>(RunRegistry.Key);
        var page = await registry.ListAsync([.. request.States], before, pageSize);

        // The registry's copies may be a state change behind; the coordinators have the live progress.
        var live = await Task.WhenAll(
            page.Runs.Select(r => grains.GetGrain<ICoordinatorGrain>(r.RunId).GetStatusAsync()));
        var response = new ListRunsResponse
        {
            NextPageToken = page.Next > 0 ? page.Next.ToString(CultureInfo.InvariantCulture) : "",
        };
        response.Runs.AddRange(live.Select(RunMapping.ToRun));
        return response;
    }

    public override async Task<Run> CancelRun(CancelRunRequest request, ServerCallContext context)
    {
        var status = await RequireRunAsync(request.RunId);
        if (status.IsFinished)
        {
            throw RpcErrors.AlreadyFinished(request.RunId, status.State);
        }

        var coordinator = grains.GetGrain<ICoordinatorGrain>(request.RunId);
        await coordinator.CancelAsync(request.Reason);
        LogCancelRequested(request.RunId);
        return RunMapping.ToRun(await coordinator.GetStatusAsync());
    }

    public override async Task WatchRun(
        WatchRunRequest request,
        IServerStreamWriter<RunEvent> responseStream,
        ServerCallContext context)
    {
        var status = await RequireRunAsync(request.RunId);
        if (request.AfterSequence > status.LastSequence && status.IsFinished)
        {
            throw RpcErrors.SequenceAhead(request.RunId, request.AfterSequence, status.LastSequence);
        }

        if (status.IsFinished && request.AfterSequence == status.LastSequence)
        {
            return;
        }

        var options = server.Value;
        var source = new CoordinatorEventSource(grains.GetGrain<ICoordinatorGrain>(request.RunId));
        var relay = new RunEventRelay(source, options.WatchBufferEvents, options.WatchStallTimeout);
        try
        {
            await relay.RelayAsync(
                request.AfterSequence,
                (runEvent, cancellation) => responseStream.WriteAsync(runEvent, cancellation),
                context.CancellationToken);
        }
        catch (WatcherLaggedException lagged)
        {
            LogWatcherDropped(request.RunId, lagged.ResumeAfter);
            throw RpcErrors.WatcherLagged(request.RunId, lagged.ResumeAfter, lagged.Message);
        }
    }

    // The run's status; InvalidArgument for a malformed id, NotFound for a run never started.
    private async Task<RunStatus> RequireRunAsync(string runId)
    {
        if (!RunGrainKey.IsValidRunId(runId))
        {
            throw RpcErrors.InvalidArgument(
                "run_id", $"run_id '{runId}' is malformed; run ids are 1-64 letters, digits, '.', '_' or '-'.");
        }

        var status = await grains.GetGrain<ICoordinatorGrain>(runId).GetStatusAsync();
        return status.Spec is null ? throw RpcErrors.NotFound(runId) : status;
    }

    [LoggerMessage(20, LogLevel.Information, "Run {RunId} accepted")]
    private partial void LogAccepted(string runId);

    [LoggerMessage(21, LogLevel.Information, "Run {RunId} rejected: {Problems} problem(s) in the request")]
    private partial void LogRejected(string runId, int problems);

    [LoggerMessage(22, LogLevel.Information, "Run {RunId}: cancellation requested")]
    private partial void LogCancelRequested(string runId);

    [LoggerMessage(23, LogLevel.Warning, "Run {RunId}: a watcher fell behind and was dropped at sequence {Sequence}")]
    private partial void LogWatcherDropped(string runId, ulong sequence);
}
