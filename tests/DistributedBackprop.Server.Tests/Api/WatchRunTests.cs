using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Tests.Infrastructure;
using Grpc.Core;

namespace DistributedBackprop.Server.Tests.Api;

[Collection(ServerGroup.Name)]
public sealed class WatchRunTests(ServerFixture server)
{
    private TrainingService.TrainingServiceClient Client => server.Client;

    [Fact]
    public async Task WatchRun_StartedAfterEpoch2_ReceivesEveryEventFromSequence1InOrder()
    {
        var run = await Client.StartRunAsync(new StartRunRequest
        {
            Spec = TestSpecs.Small(server.Data.Directory, epochs: 6),
        });
        using var first = Client.WatchRun(
            new WatchRunRequest { RunId = run.Id },
            deadline: DateTime.UtcNow + RunEvents.Timeout);
        var early = await RunEvents.ReadUntilAsync(first.ResponseStream, e => e.EpochCompleted?.Epoch == 2);

        var late = await RunEvents.WatchToEndAsync(Client, run.Id);
        var rest = await RunEvents.ReadUntilAsync(first.ResponseStream, RunEvents.IsTerminal);

        RunEvents.AssertContiguous(late, run.Id);
        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, late[^1].EventCase);
        Assert.Equal(early.Concat(rest), late);
    }

    [Fact]
    public async Task WatchRun_ReconnectAfterSequenceK_ContinuesAtKPlus1WithoutGapOrDuplicate()
    {
        var run = await Client.StartRunAsync(new StartRunRequest
        {
            Spec = TestSpecs.Small(server.Data.Directory, epochs: 4),
        });
        const ulong k = 9;
        List<RunEvent> before;
        using (var call = Client.WatchRun(
            new WatchRunRequest { RunId = run.Id },
            deadline: DateTime.UtcNow + RunEvents.Timeout))
        {
            before = await RunEvents.ReadUntilAsync(call.ResponseStream, e => e.Sequence == k);
        }

        var after = await RunEvents.WatchToEndAsync(Client, run.Id, afterSequence: k);
        var whole = await RunEvents.WatchToEndAsync(Client, run.Id);

        Assert.Equal(k + 1, after[0].Sequence);
        var joined = before.Concat(after).ToList();
        RunEvents.AssertContiguous(joined, run.Id);
        Assert.Equal(whole, joined);
        Assert.True(RunEvents.IsTerminal(joined[^1]));
    }

    [Fact]
    public async Task WatchRun_AfterTheLastSequenceOfAFinishedRun_OutOfRange()
    {
        var run = await Client.StartRunAsync(new StartRunRequest
        {
            Spec = TestSpecs.Small(server.Data.Directory, epochs: 1),
        });
        var events = await RunEvents.WatchToEndAsync(Client, run.Id);

        var atEnd = await RunEvents.WatchToEndAsync(Client, run.Id, afterSequence: events[^1].Sequence);
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            RunEvents.WatchToEndAsync(Client, run.Id, afterSequence: events[^1].Sequence + 5));

        Assert.Empty(atEnd);
        Assert.Equal(StatusCode.OutOfRange, error.StatusCode);
    }
}
