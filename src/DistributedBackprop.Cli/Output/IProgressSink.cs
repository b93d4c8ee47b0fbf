using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Cli.Output;

/// <summary>Where `dbp` writes a run's progress: a live terminal view or JSON lines.</summary>
internal interface IProgressSink : ITrainingObserver
{
    /// <summary>Runs the training inside the sink, so a live view can own the terminal while it runs.</summary>
    Task<T> RunAsync<T>(Func<Task<T>> training);

    void OnCompleted(int epochs, double testAccuracy, double elapsedSeconds);

    void OnFailed(string reason);
}
