using System.CommandLine;
using System.Runtime.InteropServices;
using DistributedBackprop.Cli.Client;
using DistributedBackprop.Cli.Output;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Models;
using Grpc.Core;
using Spectre.Console;

namespace DistributedBackprop.Cli.Commands;

/// <summary><c>dbp train</c>: starts a run on a server (embedded unless <c>--server</c>) and follows it to its
/// end. The first Ctrl+C (or SIGTERM) asks the server to cancel the run, which stops after its current step;
/// a second one stops waiting.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var options = new TrainOptions();
        var server = new Option<string?>("--server")
        {
            Description = "A TrainingService address, e.g. http://127.0.0.1:50051; default: $DBP_SERVER when set, "
                + "else an embedded cluster in this process.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DBP_SERVER") is { Length: > 0 } server
                ? server
                : null,
        };
        var command = new Command("train", "Train a model on a dataset, with live progress.");
        options.AddTo(command);
        command.Options.Add(server);
        command.SetAction((parse, _) =>
            RunAsync(options, parse, parse.GetValue(server)));
        return command;
    }

    private static async Task<int> RunAsync(TrainOptions options, ParseResult parse, string? server)
    {
        IProgressSink sink = options.Json(parse)
            ? new JsonLinesSink(Console.Out)
            : new LiveConsoleSink(AnsiConsole.Console);
        RunSpec spec;
        try
        {
            spec = options.ReadSpec(parse);
        }
        catch (Exception e) when (e is ArgumentException or ModelSpecException)
        {
            sink.OnFailed(e.Message);
            return 1;
        }

        using var stopWaiting = new CancellationTokenSource();
        ServerConnection? connection = null;
        try
        {
            connection = server is null
                ? await ServerConnection.EmbeddedAsync(stopWaiting.Token)
                : ServerConnection.Remote(server);
            var run = await connection.Client.StartRunAsync(new StartRunRequest { Spec = spec });
            using var interrupt = new Interrupt(connection.Client, run.Id, stopWaiting);
            var terminal = await sink.RunAsync(() => RunFollower.FollowAsync(
                connection.Client, run.Id, 0, sink.OnEvent, stopWaiting.Token));
            if (terminal is null)
            {
                sink.OnFailed($"The server ended the event stream of run {run.Id} before the run ended.");
            }

            return RunFollower.ExitCode(terminal);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            sink.OnFailed(RpcErrorText.Describe(e, connection?.Address ?? new Uri(server ?? "http://embedded")));
            return 1;
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException)
        {
            sink.OnFailed("interrupted before the run reported its end");
            return 130;
        }
        catch (ArgumentException e)
        {
            sink.OnFailed(e.Message);
            return 1;
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    // First Ctrl+C or SIGTERM: cancel the run on the server and keep following it to its RunCancelled event.
    // Second: stop waiting.
    private sealed class Interrupt : IDisposable
    {
        private readonly TrainingService.TrainingServiceClient _client;
        private readonly string _runId;
        private readonly CancellationTokenSource _stopWaiting;
        private readonly PosixSignalRegistration[] _registrations;
        private int _count;

        public Interrupt(
            TrainingService.TrainingServiceClient client,
            string runId,
            CancellationTokenSource stopWaiting)
        {
            _client = client;
            _runId = runId;
            _stopWaiting = stopWaiting;
            _registrations =
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            ];
        }

        public void Dispose()
        {
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }
        }

        private void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Increment(ref _count) > 1)
            {
                _stopWaiting.Cancel();
                return;
            }

            _ = CancelRunAsync();
        }

        private async Task CancelRunAsync()
        {
            try
            {
                await _client.CancelRunAsync(new CancelRunRequest
                {
                    RunId = _runId,
                    Reason = "cancelled from dbp (interrupted)",
                });
            }
            catch (RpcException)
            {
                // The run already ended, or the server is gone: the event stream says which.
            }
        }
    }
}
