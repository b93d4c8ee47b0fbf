using System.CommandLine;
using System.CommandLine.Parsing;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Training;
using Google.Protobuf;

namespace DistributedBackprop.Cli.Commands;

/// <summary>The flags of <c>dbp train</c>, declared once and read into a <see cref="RunSpec"/>. With
/// <c>--spec FILE.json</c> the file's fields come first; a flag given on the command line overrides its field,
/// and a flag left at its default fills only fields the file leaves unset.</summary>
internal sealed class TrainOptions
{
    private readonly Option<string> _model = new("--model")
    {
        Description = "Preset (mlp, cnn, resnet) or a JSON model spec file.",
        DefaultValueFactory = _ => "mlp",
    };

    private readonly Option<string> _dataset = new("--dataset")
    {
        Description = "fashion-mnist, mnist, or a directory with IDX files or train.csv/test.csv (read by the server).",
        DefaultValueFactory = _ => "fashion-mnist",
    };

    private readonly Option<int> _epochs = new("--epochs")
    {
        Description = "Passes over the training set.",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "Global mini-batch size (samples per optimizer step, all workers together).",
        DefaultValueFactory = _ => 128,
    };

    private readonly Option<int> _microBatches = new("--micro-batches")
    {
        Description = "Fixed split of each mini-batch; results are identical for any worker or thread count at "
            + "the same value.",
        DefaultValueFactory = _ => TrainingOptions.DefaultMicroBatches,
    };

    private readonly Option<string> _optimizer = new("--optimizer")
    {
        Description = "sgd, momentum, nesterov, rmsprop, adam or adamw.",
        DefaultValueFactory = _ => "adam",
    };

    private readonly Option<float?> _learningRate = new("--lr")
    {
        Description = "Learning rate (default 1e-3 for adam, adamw, rmsprop; 0.05 for sgd, momentum, nesterov).",
    };

    private readonly Option<float?> _weightDecay = new("--weight-decay")
    {
        Description = "Weight decay (L2; decoupled for adamw, default 0.01 there, else 0). Biases and BatchNorm "
            + "are exempt.",
    };

    private readonly Option<string> _schedule = new("--schedule")
    {
        Description = "constant, step or cosine (the default: decays from --lr to 0 over the whole run).",
        DefaultValueFactory = _ => "cosine",
    };

    private readonly Option<int> _warmupSteps = new("--warmup-steps") { Description = "Linear warm-up steps." };

    private readonly Option<float> _clipNorm = new("--clip-norm")
    {
        Description = "Clip gradients to this global L2 norm (0: off).",
    };

    private readonly Option<ulong> _seed = new("--seed")
    {
        Description = "Seed of every random draw.",
        DefaultValueFactory = _ => 42,
    };

    private readonly Option<int> _threads = new("--threads")
    {
        Description = "Compute threads in all, divided among the workers (default: the server decides). Results "
            + "do not depend on it.",
    };

    private readonly Option<int> _workers = new("--workers")
    {
        Description = "Worker grains splitting each mini-batch (at most --micro-batches).",
        DefaultValueFactory = _ => 4,
    };

    private readonly Option<int> _shards = new("--ps-shards")
    {
        Description = "Parameter-server shards, each owning a slice of the parameters.",
        DefaultValueFactory = _ => 2,
    };

    private readonly Option<int> _stepEvents = new("--step-events")
    {
        Description = "Report progress every N steps (0: epoch events only).",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<FileInfo?> _spec = new("--spec")
    {
        Description = "A RunSpec in protobuf JSON (the API's own form); flags given explicitly override its fields.",
    };

    private readonly Option<bool> _json =
        ClientOptions.Json("Print one JSON object per line instead of live progress.");

    public void AddTo(Command command)
    {
        Option[] all =
        [
            _model, _dataset, _epochs, _batchSize, _microBatches, _optimizer, _learningRate, _weightDecay, _schedule,
            _warmupSteps, _clipNorm, _seed, _threads, _workers, _shards, _stepEvents, _spec, _json,
        ];
        foreach (var option in all)
        {
            command.Options.Add(option);
        }

        _optimizer.AcceptOnlyFromAmong("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw");
        _schedule.AcceptOnlyFromAmong("constant", "step", "cosine");
    }

    public bool Json(ParseResult parse) => parse.GetValue(_json);

    /// <summary>The run spec the flags (and the spec file) describe.</summary>
    /// <exception cref="ArgumentException">A flag or the spec file is unusable; names it.</exception>
    public RunSpec ReadSpec(ParseResult parse)
    {
        var spec = ReadFile(parse.GetValue(_spec));
        if (Given(parse, _model) || spec.ModelCase == RunSpec.ModelOneofCase.None)
        {
            SetModel(spec, parse.GetValue(_model)!);
        }

        if (Given(parse, _dataset) || spec.DatasetCase == RunSpec.DatasetOneofCase.None)
        {
            SetDataset(spec, parse.GetValue(_dataset)!);
        }

        spec.Epochs = Pick(parse, _epochs, spec.Epochs);
        spec.BatchSize = Pick(parse, _batchSize, spec.BatchSize);
        spec.MicroBatches = Pick(parse, _microBatches, spec.MicroBatches);
        spec.Workers = Pick(parse, _workers, spec.Workers);
        spec.ParameterShards = Pick(parse, _shards, spec.ParameterShards);
        spec.StepEventInterval = Pick(parse, _stepEvents, spec.StepEventInterval);
        if (Given(parse, _seed) || spec.Seed == 0)
        {
            spec.Seed = parse.GetValue(_seed);
        }

        spec.Optimizer ??= new OptimizerSpec();
        if (Given(parse, _optimizer) || spec.Optimizer.Kind.Length == 0)
        {
            spec.Optimizer.Kind = parse.GetValue(_optimizer)!;
        }

        if (parse.GetValue(_learningRate) is float learningRate)
        {
            spec.Optimizer.LearningRate = learningRate;
        }
        else if (!spec.Optimizer.HasLearningRate)
        {
            spec.Optimizer.LearningRate = spec.Optimizer.Kind is "sgd" or "momentum" or "nesterov" ? 0.05f : 1e-3f;
        }

        if (parse.GetValue(_weightDecay) is float weightDecay)
        {
            spec.Optimizer.WeightDecay = weightDecay;
        }

        spec.Schedule ??= new ScheduleSpec();
        if (Given(parse, _schedule) || spec.Schedule.Kind.Length == 0)
        {
            spec.Schedule.Kind = parse.GetValue(_schedule)!;
        }

        spec.Schedule.WarmupSteps = Pick(parse, _warmupSteps, spec.Schedule.WarmupSteps);
        if (Given(parse, _clipNorm))
        {
            spec.ClipNorm = parse.GetValue(_clipNorm);
        }

        if (Given(parse, _threads))
        {
            spec.ThreadsPerWorker = Math.Max(1, parse.GetValue(_threads) / Math.Max(1, spec.Workers));
        }

        return spec;
    }

    private static RunSpec ReadFile(FileInfo? file)
    {
        if (file is null)
        {
            return new RunSpec();
        }

        if (!file.Exists)
        {
            throw new ArgumentException($"--spec: {file.FullName} does not exist.");
        }

        try
        {
            return JsonParser.Default.Parse<RunSpec>(File.ReadAllText(file.FullName));
        }
        catch (InvalidProtocolBufferException exception)
        {
            throw new ArgumentException(
                $"--spec: {file.FullName} is not a RunSpec in protobuf JSON ({exception.Message}). Field names are "
                + "the proto's camelCase JSON names, e.g. \"batchSize\", \"optimizer\": {{\"kind\": \"adam\"}}.");
        }
    }

    private static void SetModel(RunSpec spec, string model)
    {
        if (Presets.TryGet(model, out _))
        {
            spec.Preset = model;
            return;
        }

        if (!File.Exists(model))
        {
            throw new ArgumentException(
                $"--model: '{model}' is neither a preset ({string.Join(", ", Presets.Names)}) nor an existing "
                + "JSON file.");
        }

        var parsed = ModelSpecJson.Parse(File.ReadAllText(model));
        var layers = new LayerList();
        layers.Layers.AddRange(parsed.Layers.Select(ModelConversion.ToProto));
        spec.Layers = layers;
        spec.InputShape.Clear();
        spec.InputShape.AddRange(parsed.InputShape ?? []);
    }

    // A dataset name goes as a name (each silo finds it in its own data directory); a directory that exists
    // here goes as an absolute path, which an embedded or same-machine server reads directly.
    private static void SetDataset(RunSpec spec, string dataset)
    {
        if (DatasetCatalog.Names.Contains(dataset, StringComparer.OrdinalIgnoreCase))
        {
            spec.DatasetName = dataset;
        }
        else
        {
            spec.DatasetDirectory = Directory.Exists(dataset) ? Path.GetFullPath(dataset) : dataset;
        }
    }

    private static bool Given(ParseResult parse, Option option) =>
        parse.GetResult(option) is OptionResult { Implicit: false };

    private static int Pick(ParseResult parse, Option<int> option, int fromFile) =>
        Given(parse, option) || fromFile == 0 ? parse.GetValue(option) : fromFile;
}
