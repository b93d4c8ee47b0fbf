using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Cli.Commands;

/// <summary>The parsed flags of <c>dbp train</c>.</summary>
internal sealed record TrainArguments(
    string Model,
    string Dataset,
    int Epochs,
    int BatchSize,
    int MicroBatches,
    string Optimizer,
    float? LearningRate,
    float? WeightDecay,
    string Schedule,
    int WarmupSteps,
    float ClipNorm,
    ulong Seed,
    int Threads,
    bool Json)
{
    public TrainingOptions ToTrainingOptions()
    {
        var kind = Optimizer switch
        {
            "sgd" => OptimizerKind.Sgd,
            "momentum" => OptimizerKind.Momentum,
            "nesterov" => OptimizerKind.Nesterov,
            "rmsprop" => OptimizerKind.RmsProp,
            "adam" => OptimizerKind.Adam,
            "adamw" => OptimizerKind.AdamW,
            _ => throw new ArgumentException($"--optimizer: unknown optimizer '{Optimizer}'."),
        };
        var optimizer = new OptimizerSettings(kind);
        optimizer = optimizer with
        {
            LearningRate = LearningRate ?? DefaultLearningRate(kind),
            WeightDecay = WeightDecay ?? optimizer.WeightDecay,
        };

        return new TrainingOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            MicroBatches = MicroBatches,
            Optimizer = optimizer,
            Schedule = Schedule switch
            {
                "step" => ScheduleKind.Step,
                "cosine" => ScheduleKind.Cosine,
                _ => ScheduleKind.Constant,
            },
            WarmupSteps = WarmupSteps,
            ClipNorm = ClipNorm,
            Seed = Seed,
            Threads = Threads,
        };
    }

    private static float DefaultLearningRate(OptimizerKind kind) =>
        kind is OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov ? 0.05f : 1e-3f;
}
