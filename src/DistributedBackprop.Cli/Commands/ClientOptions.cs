using System.CommandLine;
using DistributedBackprop.Cli.Client;

namespace DistributedBackprop.Cli.Commands;

/// <summary>Options shared by the commands that talk to a running server.</summary>
internal static class ClientOptions
{
    public static Option<string> Server() => new("--server")
    {
        Description = "The TrainingService address (default: $DBP_SERVER, else http://127.0.0.1:50051).",
        DefaultValueFactory = _ => ServerConnection.DefaultServer,
    };
}
