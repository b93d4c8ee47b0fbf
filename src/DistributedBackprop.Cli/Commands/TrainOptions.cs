using System.CommandLine;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Cli.Commands;

/// <summary>The flags of <c>dbp train</c>, declared once and read into <see cref="TrainArguments"/>.</summary>
internal sealed class TrainOptions
{
    private readonly Option<string> _model = new("--model")
    {
        Description = "Preset (mlp, cnn, resnet) or a JSON model spec file.",
        DefaultValueFactory = _ => "mlp",
    };

    private readonly Option<string> _dataset = new("--dataset")
    {
        Description = "fashion-mnist, mnist, or a directory with IDX files or train.csv/test.csv.",
        DefaultValueFactory = _ => "fashion-mnist",
    };

    private readonly Option<int> _epochs = new("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => 10 };

    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "Global mini-batch size (samples per optimizer step).",
        DefaultValueFactory = _ => 128,
    };

    private readonly Option<int> _microBatches = new("--micro-batches")
    {
        Description = "Fixed split of each mini-batch; results are identical for any worker or thread count at the same value.",
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
        Description = "Weight decay (L2; decoupled for adamw, default 0.01 there, else 0). Biases and BatchNorm are exempt.",
    };

    private readonly Option<string> _schedule = new("--schedule")
    {
        Description = "constant, step or cosine.",
        DefaultValueFactory = _ => "constant",
    };

    private readonly Option<int> _warmupSteps = new("--warmup-steps") { Description = "Linear warm-up steps." };

    private readonly Option<float> _clipNorm = new("--clip-norm") { Description = "Clip gradients to this global L2 norm (0: off)." };

    private readonly Option<ulong> _seed = new("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 42 };

    private readonly Option<int> _threads = new("--threads")
    {
        Description = "Compute threads (default: all cores). Results do not depend on it.",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    private readonly Option<bool> _json = new("--json") { Description = "Print one JSON object per line instead of live progress." };

    public void AddTo(Command command)
    {
        command.Options.Add(_model);
        command.Options.Add(_dataset);
        command.Options.Add(_epochs);
        command.Options.Add(_batchSize);
        command.Options.Add(_microBatches);
        command.Options.Add(_optimizer);
        command.Options.Add(_learningRate);
        command.Options.Add(_weightDecay);
        command.Options.Add(_schedule);
        command.Options.Add(_warmupSteps);
        command.Options.Add(_clipNorm);
        command.Options.Add(_seed);
        command.Options.Add(_threads);
        command.Options.Add(_json);
        _optimizer.AcceptOnlyFromAmong("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw");
        _schedule.AcceptOnlyFromAmong("constant", "step", "cosine");
    }

    public TrainArguments Read(ParseResult parse) => new(
        parse.GetValue(_model)!,
        parse.GetValue(_dataset)!,
        parse.GetValue(_epochs),
        parse.GetValue(_batchSize),
        parse.GetValue(_microBatches),
        parse.GetValue(_optimizer)!,
        parse.GetValue(_learningRate),
        parse.GetValue(_weightDecay),
        parse.GetValue(_schedule)!,
        parse.GetValue(_warmupSteps),
        parse.GetValue(_clipNorm),
        parse.GetValue(_seed),
        parse.GetValue(_threads),
        parse.GetValue(_json));
}
