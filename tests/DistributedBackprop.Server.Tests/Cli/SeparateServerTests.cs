using System.Text.Json;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Server.Tests.Infrastructure;
using Grpc.Net.Client;

namespace DistributedBackprop.Server.Tests.Cli;

/// <summary>The standalone server program in its own process, with <c>dbp</c> and a gRPC client talking to
/// it.</summary>
public sealed class SeparateServerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Train_ServerFlagAgainstSeparateServerProcess_SameEpochLinesAsEmbeddedMode()
    {
        using var data = SyntheticDataset.Small();
        var (serverProcess, address) = await ServerProcess.StartAsync();
        await using var _ = serverProcess;
        string[] args =
        [
            "train", "--json", "--dataset", data.Directory, "--epochs", "3", "--batch-size", "32",
            "--micro-batches", "8", "--workers", "4", "--ps-shards", "2", "--lr", "0.01", "--seed", "5",
            "--step-events", "0",
        ];

        var remote = await RunDbpAsync([.. args, "--server", address.ToString()]);
        var embedded = await RunDbpAsync(args);

        Assert.Equal(0, remote.ExitCode);
        Assert.Equal(0, embedded.ExitCode);
        var remoteEpochs = Results(remote.Lines);
        Assert.Equal(3, remoteEpochs.Count(r => r.StartsWith("epoch", StringComparison.Ordinal)));
        Assert.Equal(Results(embedded.Lines), remoteEpochs);
    }

    [Fact]
    public async Task Server_Sigterm_CancelsTheRunningRunAfterItsStepAndExitsCleanly()
    {
        using var data = SyntheticDataset.Small();
        var (serverProcess, address) = await ServerProcess.StartAsync();
        await using var _ = serverProcess;
        using var channel = GrpcChannel.ForAddress(address);
        var client = new TrainingService.TrainingServiceClient(channel);
        var run = await client.StartRunAsync(new StartRunRequest
        {
            Spec = TestSpecs.Small(data.Directory, epochs: 500),
        });
        using var call = client.WatchRun(new WatchRunRequest { RunId = run.Id }, deadline: DateTime.UtcNow + Timeout);
        var before = await RunEvents.ReadUntilAsync(call.ResponseStream, e => e.StepProgress?.GlobalStep == 3);

        await serverProcess.SignalAsync("TERM");
        var after = await RunEvents.ReadUntilAsync(call.ResponseStream, RunEvents.IsTerminal);
        var (exitCode, _) = await serverProcess.WaitForExitAsync(Timeout);

        var events = before.Concat(after).ToList();
        RunEvents.AssertContiguous(events, run.Id);
        Assert.Equal("the server is shutting down", events[^1].RunCancelled?.Reason);
        Assert.Equal(0, exitCode);
    }

    // Every epoch and completion line without its timings: the numbers a seed decides.
    private static List<string> Results(List<string> lines) => lines
        .Select(line => JsonDocument.Parse(line).RootElement)
        .Where(json => json.GetProperty("type").GetString() is "epoch" or "completed")
        .Select(json => json.GetProperty("type").GetString() == "epoch"
            ? $"epoch {json.GetProperty("epoch")} {json.GetProperty("trainLoss")} {json.GetProperty("testLoss")} "
                + $"{json.GetProperty("testAccuracy")} {json.GetProperty("workers")}"
            : $"completed {json.GetProperty("epochs")} {json.GetProperty("testAccuracy")}")
        .ToList();

    private static async Task<(int ExitCode, List<string> Lines)> RunDbpAsync(string[] args)
    {
        await using var dbp = ChildProcess.Start("dbp.dll", args);
        return await dbp.WaitForExitAsync(Timeout);
    }
}
