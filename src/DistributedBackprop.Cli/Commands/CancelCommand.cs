using System.CommandLine;
using DistributedBackprop.Cli.Client;
using DistributedBackprop.Contracts.V1;
using Grpc.Core;
using Spectre.Console;

namespace DistributedBackprop.Cli.Commands;

/// <summary><c>dbp cancel RUN</c>: asks the server to stop a run after its current step.</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "The run id." };
        var reason = new Option<string>("--reason")
        {
            Description = "Recorded in the run's cancelled event.",
            DefaultValueFactory = _ => "cancelled with dbp cancel",
        };
        var server = ClientOptions.Server();
        var command = new Command("cancel", "Cancel a pending or running run.") { run, reason, server };
        command.SetAction(async (parse, cancellation) =>
        {
            string address = parse.GetValue(server)!;
            try
            {
                await using var connection = ServerConnection.Remote(address);
                var cancelled = await connection.Client.CancelRunAsync(
                    new CancelRunRequest { RunId = parse.GetValue(run)!, Reason = parse.GetValue(reason)! },
                    cancellationToken: cancellation);
                AnsiConsole.MarkupLine(
                    $"Cancellation requested for run [bold]{Markup.Escape(cancelled.Id)}[/]; it stops after its "
                    + $"current step (`dbp watch {Markup.Escape(cancelled.Id)} --from {cancelled.LastSequence}`).");
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
}
