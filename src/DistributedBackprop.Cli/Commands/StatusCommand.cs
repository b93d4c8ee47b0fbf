using System.CommandLine;
using DistributedBackprop.Cli.Client;
using DistributedBackprop.Cli.Output;
using DistributedBackprop.Contracts.V1;
using Google.Protobuf;
using Grpc.Core;
using Spectre.Console;

namespace DistributedBackprop.Cli.Commands;

/// <summary><c>dbp status RUN</c>: one run's state and progress.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "The run id." };
        var json = new Option<bool>("--json") { Description = "The Run in protobuf JSON." };
        var server = ClientOptions.Server();
        var command = new Command("status", "Show a run's state and progress.") { run, json, server };
        command.SetAction(async (parse, cancellation) =>
        {
            string address = parse.GetValue(server)!;
            try
            {
                await using var connection = ServerConnection.Remote(address);
                var found = await connection.Client.GetRunAsync(
                    new GetRunRequest { RunId = parse.GetValue(run)! }, cancellationToken: cancellation);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonFormatter.Default.Format(found));
                }
                else
                {
                    Print(found);
                }

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

    private static void Print(Run run)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("Run", Markup.Escape(run.Id));
        grid.AddRow("State", RunText.State(run.State));
        grid.AddRow("Epoch", $"{run.Progress.Epoch}/{run.Progress.Epochs}");
        grid.AddRow("Global step", run.Progress.GlobalStep.ToString(System.Globalization.CultureInfo.InvariantCulture));
        grid.AddRow("Test accuracy", RunText.Accuracy(run.Progress));
        grid.AddRow("Workers", run.Progress.Workers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        grid.AddRow("Created (UTC)", RunText.Time(run.CreatedTime));
        grid.AddRow("Started (UTC)", RunText.Time(run.StartedTime));
        grid.AddRow("Finished (UTC)", RunText.Time(run.FinishedTime));
        grid.AddRow("Last event", run.LastSequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (run.FailureReason.Length > 0)
        {
            grid.AddRow("Reason", Markup.Escape(run.FailureReason));
        }

        AnsiConsole.Write(grid);
    }
}
