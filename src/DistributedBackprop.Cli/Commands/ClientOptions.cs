using System.CommandLine;
using DistributedBackprop.Cli.Client;
using Spectre.Console;

namespace DistributedBackprop.Cli.Commands;

/// <summary>Options shared by the commands that talk to a running server.</summary>
internal static class ClientOptions
{
    public static Option<string> Server() => new("--server")
    {
        Description = "The TrainingService address (default: $DBP_SERVER, else http://127.0.0.1:50051).",
        DefaultValueFactory = _ => ServerConnection.DefaultServer,
    };

    public static Option<bool> Json(string description) => new("--json") { Description = description };

    public static void PrintFailure(string reason) =>
        AnsiConsole.MarkupLine($"[bold red]Failed:[/] {Markup.Escape(reason)}");
}
