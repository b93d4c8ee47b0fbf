using System.CommandLine;
using DistributedBackprop.Cli.Client;
using DistributedBackprop.Cli.Output;
using DistributedBackprop.Contracts.V1;
using Google.Protobuf;
using Grpc.Core;
using Spectre.Console;

namespace DistributedBackprop.Cli.Commands;

/// <summary><c>dbp runs</c>: the cluster's runs, newest first, optionally only those in some states.</summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var states = new Option<string[]>("--state")
        {
            Description = "Only runs in these states: pending, running, completed, failed, cancelled.",
            AllowMultipleArgumentsPerToken = true,
        };
        states.AcceptOnlyFromAmong("pending", "running", "completed", "failed", "cancelled");
        var limit = new Option<int>("--limit") { Description = "Most runs to show.", DefaultValueFactory = _ => 50 };
        var json = new Option<bool>("--json") { Description = "One Run per line in protobuf JSON." };
        var server = ClientOptions.Server();
        var command = new Command("runs", "List the runs on a server.") { states, limit, json, server };
        command.SetAction(async (parse, cancellation) =>
        {
            string address = parse.GetValue(server)!;
            try
            {
                await using var connection = ServerConnection.Remote(address);
                var request = new ListRunsRequest { PageSize = Math.Clamp(parse.GetValue(limit), 1, 1000) };
                request.States.AddRange((parse.GetValue(states) ?? []).Select(RunText.ParseState));
                var runs = new List<Run>();
                do
                {
                    var page = await connection.Client.ListRunsAsync(request, cancellationToken: cancellation);
                    runs.AddRange(page.Runs);
                    request.PageToken = page.NextPageToken;
                }
                while (request.PageToken.Length > 0 && runs.Count < parse.GetValue(limit));
                Print(runs.Take(parse.GetValue(limit)).ToList(), parse.GetValue(json));
                return 0;
            }
            catch (RpcException e)
            {
                ClientOptions.PrintFailure(RpcErrorText.Describe(e, new Uri(address)));
                return 1;
            }
        });
        return command;
    }

    private static void Print(List<Run> runs, bool json)
    {
        if (json)
        {
            foreach (var run in runs)
            {
                Console.WriteLine(JsonFormatter.Default.Format(run));
            }

            return;
        }

        var table = new Table().AddColumns("Run", "State", "Epoch", "Step", "Test acc", "Workers", "Created (UTC)");
        foreach (var run in runs)
        {
            table.AddRow(
                Markup.Escape(run.Id),
                RunText.State(run.State),
                $"{run.Progress.Epoch}/{run.Progress.Epochs}",
                run.Progress.GlobalStep.ToString(System.Globalization.CultureInfo.InvariantCulture),
                RunText.Accuracy(run.Progress),
                run.Progress.Workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                RunText.Time(run.CreatedTime));
        }

        AnsiConsole.Write(table);
    }
}
