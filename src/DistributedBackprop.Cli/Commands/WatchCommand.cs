using System.CommandLine;
using DistributedBackprop.Cli.Client;
using DistributedBackprop.Cli.Output;
using Grpc.Core;
using Spectre.Console;

namespace DistributedBackprop.Cli.Commands;

/// <summary><c>dbp watch RUN [--from SEQ]</c>: follows a run's events to its end, with the same output as
/// <c>dbp train</c>; the exit code tells how the run ended.</summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "The run id." };
        var from = new Option<ulong>("--from")
        {
            Description = "Show the events after this sequence number (0: the whole log).",
        };
        var json = ClientOptions.Json("Print one JSON object per line instead of live progress.");
        var server = ClientOptions.Server();
        var command = new Command("watch", "Follow a run's progress until it ends.") { run, from, json, server };
        command.SetAction(async (parse, cancellation) =>
        {
            IProgressSink sink = parse.GetValue(json)
                ? new JsonLinesSink(Console.Out)
                : new LiveConsoleSink(AnsiConsole.Console);
            string address = parse.GetValue(server)!;
            try
            {
                await using var connection = ServerConnection.Remote(address);
                string runId = parse.GetValue(run)!;
                var terminal = await sink.RunAsync(() => RunFollower.FollowAsync(
                    connection.Client, runId, parse.GetValue(from), sink.OnEvent, cancellation));
                return RunFollower.ExitCode(terminal);
            }
            catch (RpcException e)
            {
                sink.OnFailed(RpcErrorText.Describe(e, new Uri(address)));
                return 1;
            }
            catch (ArgumentException e)
            {
                sink.OnFailed(e.Message);
                return 1;
            }
        });
        return command;
    }
}
