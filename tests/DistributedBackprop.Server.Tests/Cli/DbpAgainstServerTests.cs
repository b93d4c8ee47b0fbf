using System.Text.Json;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Tests.Infrastructure;

namespace DistributedBackprop.Server.Tests.Cli;

/// <summary><c>dbp</c> as a separate process against the shared test server.</summary>
[Collection(ServerGroup.Name)]
public sealed class DbpAgainstServerTests(ServerFixture server)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Watch_Json_PrintsTheSameLinesAsTrainJson()
    {
        var train = await RunAsync(Train(epochs: 2));
        string runId = Field(train.Lines.Single(l => Field(l, "type") == "started"), "runId");

        var watch = await RunAsync(["watch", runId, "--json", "--server", server.Server.GrpcAddress.ToString()]);

        Assert.Equal(0, train.ExitCode);
        Assert.Equal(0, watch.ExitCode);
        Assert.Equal(train.Lines, watch.Lines);
        Assert.Equal("completed", Field(train.Lines[^1], "type"));
    }

    [Fact]
    public async Task Train_Interrupted_CancelsTheRunOnTheServerAndExits130()
    {
        await using var dbp = ChildProcess.Start("dbp.dll", Train(epochs: 500, stepEvents: 1));
        string started = await dbp.WaitForLineAsync(l => Field(l, "type") == "started", Timeout);
        await dbp.WaitForLineAsync(l => Field(l, "type") == "step", Timeout);

        await dbp.SignalAsync("INT");
        var (exitCode, lines) = await dbp.WaitForExitAsync(Timeout);

        Assert.True(exitCode == 130, $"exit code {exitCode}, output:\n{string.Join('\n', lines)}");
        Assert.Equal("cancelled", Field(lines[^1], "type"));
        var run = await server.Client.GetRunAsync(new GetRunRequest { RunId = Field(started, "runId") });
        Assert.Equal(RunState.Cancelled, run.State);
        Assert.True(run.Progress.Epoch < 500);
    }

    [Fact]
    public async Task Train_InvalidSpec_PrintsFailedNamingTheFieldAndExits1()
    {
        var train = await RunAsync(Train(epochs: 1, microBatches: 5));

        Assert.Equal(1, train.ExitCode);
        string line = Assert.Single(train.Lines);
        Assert.Equal("failed", Field(line, "type"));
        Assert.Contains("spec.micro_batches", Field(line, "reason"), StringComparison.Ordinal);
    }

    private string[] Train(int epochs, int stepEvents = 0, int microBatches = 8) =>
    [
        "train", "--json", "--server", server.Server.GrpcAddress.ToString(), "--dataset", server.Data.Directory,
        "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch-size", "32",
        "--micro-batches", microBatches.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--workers", "2", "--lr", "0.01", "--seed", "5",
        "--step-events", stepEvents.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ];

    private static async Task<(int ExitCode, List<string> Lines)> RunAsync(string[] args)
    {
        await using var dbp = ChildProcess.Start("dbp.dll", args);
        return await dbp.WaitForExitAsync(Timeout);
    }

    private static string Field(string jsonLine, string name)
    {
        using var document = JsonDocument.Parse(jsonLine);
        return document.RootElement.GetProperty(name).ToString();
    }
}
