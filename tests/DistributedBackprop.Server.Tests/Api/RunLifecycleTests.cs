using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Tests.Infrastructure;
using Grpc.Core;

namespace DistributedBackprop.Server.Tests.Api;

[Collection(ServerGroup.Name)]
public sealed class RunLifecycleTests(ServerFixture server)
{
    private TrainingService.TrainingServiceClient Client => server.Client;

    [Fact]
    public async Task StartRun_ValidSpec_WatchStreamsEveryEventToCompletion()
    {
        var spec = TestSpecs.Small(server.Data.Directory, epochs: 3);
        var run = await Client.StartRunAsync(new StartRunRequest { Spec = spec });

        var events = await RunEvents.WatchToEndAsync(Client, run.Id);

        RunEvents.AssertContiguous(events, run.Id);
        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, events[^1].EventCase);
        Assert.Equal(2, events.Count(e => e.EventCase == RunEvent.EventOneofCase.WorkerJoined));
        Assert.Single(events, e => e.EventCase == RunEvent.EventOneofCase.RunStarted);
        Assert.Equal(
            Enumerable.Range(1, 24).Select(s => (long)s),
            events.Where(e => e.StepProgress is not null).Select(e => e.StepProgress.GlobalStep));
        Assert.Equal([1, 2, 3], events.Where(e => e.EpochCompleted is not null).Select(e => e.EpochCompleted.Epoch));
        Assert.Equal(24, events[^1].RunCompleted.Steps);
    }

    [Fact]
    public async Task GetRun_CompletedRun_ReportsStateProgressAndTimes()
    {
        var spec = TestSpecs.Small(server.Data.Directory, epochs: 2);
        var started = await Client.StartRunAsync(new StartRunRequest { Spec = spec, RunId = "get-run-completed" });
        var events = await RunEvents.WatchToEndAsync(Client, started.Id);

        var run = await Client.GetRunAsync(new GetRunRequest { RunId = started.Id });

        Assert.Equal("get-run-completed", run.Id);
        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(spec, run.Spec);
        Assert.Equal(2, run.Progress.Epoch);
        Assert.Equal(2, run.Progress.Epochs);
        Assert.Equal(16, run.Progress.GlobalStep);
        Assert.Equal(2, run.Progress.Workers);
        Assert.Equal(events[^1].RunCompleted.TestAccuracy, run.Progress.LastTestAccuracy);
        Assert.Equal(events[^1].Sequence, run.LastSequence);
        Assert.True(run.CreatedTime.ToDateTime() <= run.StartedTime.ToDateTime());
        Assert.True(run.StartedTime.ToDateTime() <= run.FinishedTime.ToDateTime());
        Assert.Equal("", run.FailureReason);
    }

    [Fact]
    public async Task StartRun_SameIdAndSpecTwice_ReturnsTheExistingRun()
    {
        var spec = TestSpecs.Small(server.Data.Directory, epochs: 1);
        var first = await Client.StartRunAsync(new StartRunRequest { Spec = spec, RunId = "start-twice" });
        var second = await Client.StartRunAsync(new StartRunRequest { Spec = spec, RunId = "start-twice" });
        await RunEvents.WatchToEndAsync(Client, first.Id);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.CreatedTime, second.CreatedTime);
    }

    [Fact]
    public async Task StartRun_SameIdDifferentSpec_AlreadyExists()
    {
        var spec = TestSpecs.Small(server.Data.Directory, epochs: 1);
        await Client.StartRunAsync(new StartRunRequest { Spec = spec, RunId = "start-conflict" });
        spec.Seed = 99;

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.StartRunAsync(new StartRunRequest { Spec = spec, RunId = "start-conflict" }));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        await RunEvents.WatchToEndAsync(Client, "start-conflict");
    }

    [Fact]
    public async Task CancelRun_RunningRun_StopsWithinOneStepAndReportsCancelled()
    {
        var spec = TestSpecs.Small(server.Data.Directory, epochs: 500);
        var run = await Client.StartRunAsync(new StartRunRequest { Spec = spec });
        using var call = Client.WatchRun(
            new WatchRunRequest { RunId = run.Id },
            deadline: DateTime.UtcNow + RunEvents.Timeout);
        var seen = await RunEvents.ReadUntilAsync(call.ResponseStream, e => e.StepProgress?.GlobalStep == 3);

        var cancelling = await Client.CancelRunAsync(new CancelRunRequest { RunId = run.Id, Reason = "test stop" });
        var rest = await RunEvents.ReadUntilAsync(call.ResponseStream, RunEvents.IsTerminal);

        var events = seen.Concat(rest).ToList();
        RunEvents.AssertContiguous(events, run.Id);
        Assert.Equal("test stop", events[^1].RunCancelled.Reason);
        var final = await Client.GetRunAsync(new GetRunRequest { RunId = run.Id });
        Assert.Equal(RunState.Cancelled, final.State);
        Assert.Equal("test stop", final.FailureReason);
        Assert.InRange(final.Progress.GlobalStep, cancelling.Progress.GlobalStep, cancelling.Progress.GlobalStep + 1);
        Assert.DoesNotContain(events, e => e.StepProgress?.GlobalStep > cancelling.Progress.GlobalStep + 1);
    }

    [Fact]
    public async Task CancelRun_FinishedRun_FailedPrecondition()
    {
        var run = await Client.StartRunAsync(new StartRunRequest
        {
            Spec = TestSpecs.Small(server.Data.Directory, epochs: 1),
        });
        await RunEvents.WatchToEndAsync(Client, run.Id);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.CancelRunAsync(new CancelRunRequest { RunId = run.Id }));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("completed", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRunCancelRunWatchRun_UnknownRun_NotFound()
    {
        var get = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.GetRunAsync(new GetRunRequest { RunId = "no-such-run" }));
        var cancel = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.CancelRunAsync(new CancelRunRequest { RunId = "no-such-run" }));
        var watch = await Assert.ThrowsAsync<RpcException>(() => RunEvents.WatchToEndAsync(Client, "no-such-run"));

        Assert.Equal(StatusCode.NotFound, get.StatusCode);
        Assert.Equal(StatusCode.NotFound, cancel.StatusCode);
        Assert.Equal(StatusCode.NotFound, watch.StatusCode);
        Assert.Contains("ListRuns", get.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartRun_TwoRunsConcurrently_BothCompleteWithSeparateLogsEqualToSoloRuns()
    {
        var specA = TestSpecs.Small(server.Data.Directory, epochs: 3, seed: 21);
        var specB = TestSpecs.Small(server.Data.Directory, epochs: 2, seed: 22, workers: 4);

        var runs = await Task.WhenAll(
            Client.StartRunAsync(new StartRunRequest { Spec = specA }).ResponseAsync,
            Client.StartRunAsync(new StartRunRequest { Spec = specB }).ResponseAsync);
        var logs = await Task.WhenAll(runs.Select(r => RunEvents.WatchToEndAsync(Client, r.Id)));
        var soloA = await Client.StartRunAsync(new StartRunRequest { Spec = specA });
        var soloLog = await RunEvents.WatchToEndAsync(Client, soloA.Id);

        RunEvents.AssertContiguous(logs[0], runs[0].Id);
        RunEvents.AssertContiguous(logs[1], runs[1].Id);
        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, logs[0][^1].EventCase);
        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, logs[1][^1].EventCase);
        Assert.Equal(3, logs[0].Count(e => e.EpochCompleted is not null));
        Assert.Equal(2, logs[1].Count(e => e.EpochCompleted is not null));
        Assert.Equal(4, logs[1].Count(e => e.WorkerJoined is not null));

        // Determinism makes isolation checkable: run A beside run B computed exactly what it computes alone.
        Assert.Equal(Numbers(soloLog), Numbers(logs[0]));
        Assert.NotEqual(Numbers(logs[0]).Take(8), Numbers(logs[1]).Take(8));
    }

    private static List<double> Numbers(List<RunEvent> events) => events
        .SelectMany<RunEvent, double>(e => e.EventCase switch
        {
            RunEvent.EventOneofCase.StepProgress => [e.StepProgress.Loss, e.StepProgress.GradientNorm],
            RunEvent.EventOneofCase.EpochCompleted =>
                [e.EpochCompleted.TrainLoss, e.EpochCompleted.TestLoss, e.EpochCompleted.TestAccuracy],
            _ => [],
        })
        .ToList();
}
