using System.CommandLine;
using DistributedBackprop.Cli.Commands;

// `dbp`: trains models on a DistributedBackprop cluster and watches runs.
var root = new RootCommand("DistributedBackprop: data-parallel neural-network training.")
{
    TrainCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
