using System.CommandLine;
using DistributedBackprop.Cli.Output;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Training;
using Spectre.Console;

namespace DistributedBackprop.Cli.Commands;

/// <summary><c>dbp train</c>: trains a model and reports progress per epoch.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var options = new TrainOptions();
        var command = new Command("train", "Train a model on a dataset, with live progress.");
        options.AddTo(command);
        command.SetAction((parse, cancellation) => RunAsync(options.Read(parse), cancellation));
        return command;
    }

    private static async Task<int> RunAsync(TrainArguments arguments, CancellationToken cancellation)
    {
        IProgressSink sink = arguments.Json
            ? new JsonLinesSink(Console.Out)
            : new LiveConsoleSink(AnsiConsole.Console);
        try
        {
            var modelSpec = LoadModel(arguments.Model);
            var data = DatasetCatalog.Default.Load(arguments.Dataset);
            var (train, test) = (data.Train, data.Test);
            var trainingOptions = arguments.ToTrainingOptions();
            var trainer = new Trainer(modelSpec, train, test, trainingOptions);
            var result = await sink.RunAsync(() => Task.Run(() => trainer.Run(sink, cancellation), cancellation));
            sink.OnCompleted(result.Epochs, result.TestAccuracy, result.ElapsedSeconds);
            return 0;
        }
        catch (OperationCanceledException)
        {
            sink.OnFailed("cancelled");
            return 130;
        }
        catch (Exception e) when (e is DatasetException or ModelSpecException or ArgumentException or TrainingException)
        {
            sink.OnFailed(e.Message);
            return 1;
        }
    }

    private static ModelSpec LoadModel(string model)
    {
        if (Presets.TryGet(model, out var preset))
        {
            return preset;
        }

        if (File.Exists(model))
        {
            return ModelSpecJson.Parse(File.ReadAllText(model));
        }

        throw new ArgumentException(
            $"--model: '{model}' is neither a preset ({string.Join(", ", Presets.Names)}) nor an existing JSON file.");
    }
}
