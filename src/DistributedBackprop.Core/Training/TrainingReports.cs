namespace DistributedBackprop.Core.Training;

/// <summary>One optimizer step finished.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="GlobalStep">1-based step since the start of the run.</param>
/// <param name="Loss">Mean loss over the step's global batch.</param>
/// <param name="GradientNorm">L2 norm of the reduced gradient before clipping (trained parameters only).</param>
/// <param name="Samples">Samples trained in this step (the global batch size).</param>
public sealed record StepReport(
    int Epoch,
    int Step,
    int StepsPerEpoch,
    long GlobalStep,
    double Loss,
    double GradientNorm,
    float LearningRate,
    int Samples);

/// <summary>An epoch finished and was evaluated on the test split.</summary>
/// <param name="TrainLoss">Mean training loss over the epoch's steps.</param>
/// <param name="SamplesPerSecond">Training samples per second of wall time in this epoch (evaluation excluded).</param>
/// <param name="ElapsedSeconds">Wall time since the run started, evaluation included.</param>
/// <param name="TrainingSeconds">Wall time spent in training steps since the run started, evaluation excluded.</param>
public sealed record EpochReport(
    int Epoch,
    int Epochs,
    double TrainLoss,
    double TestLoss,
    double TestAccuracy,
    double SamplesPerSecond,
    double ElapsedSeconds,
    double TrainingSeconds,
    int Workers);

/// <summary>Receives progress from a training run; called on the training thread, so keep it short.</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport report);

    void OnEpoch(EpochReport report);
}
