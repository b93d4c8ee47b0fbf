using System.Text.Json;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Cli.Output;

/// <summary>
/// One JSON object per line on standard output: <c>{"type":"epoch",...}</c> per epoch and a final
/// <c>{"type":"completed",...}</c> or <c>{"type":"failed",...}</c>. Field names are camelCase and stable: scripts rely on them.
/// </summary>
internal sealed class JsonLinesSink(TextWriter output) : IProgressSink
{
    private readonly Lock _lock = new();

    public Task<T> RunAsync<T>(Func<Task<T>> training) => training();

    public void OnStep(StepReport report)
    {
    }

    public void OnEpoch(EpochReport report) => Write(new
    {
        type = "epoch",
        epoch = report.Epoch,
        trainLoss = report.TrainLoss,
        testLoss = report.TestLoss,
        testAccuracy = report.TestAccuracy,
        samplesPerSecond = report.SamplesPerSecond,
        elapsedSeconds = report.ElapsedSeconds,
        workers = report.Workers,
    });

    public void OnCompleted(int epochs, double testAccuracy, double elapsedSeconds) => Write(new
    {
        type = "completed",
        epochs,
        testAccuracy,
        elapsedSeconds,
    });

    public void OnFailed(string reason) => Write(new { type = "failed", reason });

    private void Write(object value)
    {
        lock (_lock)
        {
            output.WriteLine(JsonSerializer.Serialize(value));
            output.Flush();
        }
    }
}
