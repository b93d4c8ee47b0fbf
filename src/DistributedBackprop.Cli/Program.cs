using System.CommandLine;
using DistributedBackprop.Cli.Commands;

// `dbp`: starts and watches training runs on a DistributedBackprop server, embedded or remote.
var root = new RootCommand("DistributedBackprop: data-parallel neural-network training.")
{
    TrainCommand.Create(),
    RunsCommand.Create(),
    StatusCommand.Create(),
    WatchCommand.Create(),
    CancelCommand.Create(),
    ServeCommand.Create(),
};

// Signals are handled where they mean something: `dbp train` cancels its run, `dbp serve` stops gracefully.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
