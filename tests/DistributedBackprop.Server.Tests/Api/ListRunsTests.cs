using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Tests.Infrastructure;
using Grpc.Core;

namespace DistributedBackprop.Server.Tests.Api;

[Collection(ServerGroup.Name)]
public sealed class ListRunsTests(ServerFixture server)
{
    private TrainingService.TrainingServiceClient Client => server.Client;

    [Fact]
    public async Task ListRuns_PagesOfOne_WalkEveryRunNewestFirstWithoutRepeats()
    {
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var run = await Client.StartRunAsync(new StartRunRequest
            {
                Spec = TestSpecs.Small(server.Data.Directory, epochs: 1),
                RunId = $"list-pages-{i}",
            });
            ids.Add(run.Id);
        }

        foreach (string id in ids)
        {
            await RunEvents.WatchToEndAsync(Client, id);
        }

        var seen = new List<Run>();
        var request = new ListRunsRequest { PageSize = 1 };
        do
        {
            var page = await Client.ListRunsAsync(request);
            Assert.True(page.Runs.Count <= 1);
            seen.AddRange(page.Runs);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        Assert.Equal(seen.Count, seen.Select(r => r.Id).Distinct().Count());
        var mine = seen.Where(r => ids.Contains(r.Id)).Select(r => r.Id).ToList();
        Assert.Equal(ids.AsEnumerable().Reverse(), mine);
        Assert.All(seen.Where(r => ids.Contains(r.Id)), r => Assert.Equal(RunState.Completed, r.State));
    }

    [Fact]
    public async Task ListRuns_StateFilter_ReturnsOnlyRunsInThoseStates()
    {
        var cancelled = await Client.StartRunAsync(new StartRunRequest
        {
            Spec = TestSpecs.Small(server.Data.Directory, epochs: 500),
            RunId = "list-filter-cancelled",
        });
        await Client.CancelRunAsync(new CancelRunRequest { RunId = cancelled.Id });
        await RunEvents.WatchToEndAsync(Client, cancelled.Id);

        var onlyCancelled = await Client.ListRunsAsync(new ListRunsRequest { States = { RunState.Cancelled } });
        var onlyCompleted = await Client.ListRunsAsync(new ListRunsRequest { States = { RunState.Completed } });

        Assert.Contains(onlyCancelled.Runs, r => r.Id == cancelled.Id);
        Assert.All(onlyCancelled.Runs, r => Assert.Equal(RunState.Cancelled, r.State));
        Assert.DoesNotContain(onlyCompleted.Runs, r => r.Id == cancelled.Id);
    }

    [Fact]
    public async Task ListRuns_ForeignPageToken_InvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.ListRunsAsync(new ListRunsRequest { PageToken = "not-a-token" }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("page_token", error.Status.Detail, StringComparison.Ordinal);
    }
}
