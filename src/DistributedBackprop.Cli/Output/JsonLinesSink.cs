using System.Text.Json;
using System.Text.Json.Serialization;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cli.Output;

/// <summary>
/// One JSON object per line on standard output, one per run event: <c>{"type":"epoch",...}</c> per epoch, a final
/// <c>{"type":"completed",...}</c>, <c>{"type":"failed",...}</c> or <c>{"type":"cancelled",...}</c>, and
/// <c>started</c>, <c>workerJoined</c>, <c>workerLeft</c> and <c>step</c> lines. Field names are camelCase and
/// stable: scripts rely on them. <c>dbp train --json</c> and <c>dbp watch --json</c> print the same lines.
/// </summary>
internal sealed class JsonLinesSink(TextWriter output) : IProgressSink
{
    // A test loss is NaN for an epoch that was not evaluated; plain JSON has no NaN.
    private static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly Lock _lock = new();
    private int _epochs;

    public Task<T> RunAsync<T>(Func<Task<T>> follow) => follow();

    public void OnEvent(RunEvent runEvent)
    {
        switch (runEvent.EventCase)
        {
            case RunEvent.EventOneofCase.RunStarted:
                var started = runEvent.RunStarted;
                _epochs = started.Spec?.Epochs ?? _epochs;
                Write(new
                {
                    type = "started",
                    runId = runEvent.RunId,
                    parameterCount = started.ParameterCount,
                    stepsPerEpoch = started.StepsPerEpoch,
                    workers = started.Spec?.Workers ?? 0,
                    shards = started.ShardSilos.Count,
                    silos = started.Silos,
                });
                break;
            case RunEvent.EventOneofCase.WorkerJoined:
                var joined = runEvent.WorkerJoined;
                Write(new { type = "workerJoined", rank = joined.Rank, silo = joined.Silo });
                break;
            case RunEvent.EventOneofCase.WorkerLeft:
                var left = runEvent.WorkerLeft;
                Write(new { type = "workerLeft", rank = left.Rank, silo = left.Silo });
                break;
            case RunEvent.EventOneofCase.StepProgress:
                var step = runEvent.StepProgress;
                Write(new
                {
                    type = "step",
                    epoch = step.Epoch,
                    step = step.Step,
                    stepsPerEpoch = step.StepsPerEpoch,
                    globalStep = step.GlobalStep,
                    loss = step.Loss,
                    gradientNorm = step.GradientNorm,
                    learningRate = step.LearningRate,
                });
                break;
            case RunEvent.EventOneofCase.EpochCompleted:
                var epoch = runEvent.EpochCompleted;
                _epochs = epoch.Epochs;
                Write(new
                {
                    type = "epoch",
                    epoch = epoch.Epoch,
                    trainLoss = epoch.TrainLoss,
                    testLoss = epoch.TestLoss,
                    testAccuracy = epoch.TestAccuracy,
                    samplesPerSecond = epoch.SamplesPerSecond,
                    elapsedSeconds = epoch.ElapsedSeconds,
                    workers = epoch.Workers,
                });
                break;
            case RunEvent.EventOneofCase.RunCompleted:
                var completed = runEvent.RunCompleted;
                Write(new
                {
                    type = "completed",
                    epochs = _epochs,
                    testAccuracy = completed.TestAccuracy,
                    elapsedSeconds = completed.ElapsedSeconds,
                });
                break;
            case RunEvent.EventOneofCase.RunFailed:
                OnFailed(runEvent.RunFailed.Reason);
                break;
            case RunEvent.EventOneofCase.RunCancelled:
                Write(new { type = "cancelled", reason = runEvent.RunCancelled.Reason });
                break;
        }
    }

    public void OnFailed(string reason) => Write(new { type = "failed", reason });

    private void Write(object value)
    {
        lock (_lock)
        {
            output.WriteLine(JsonSerializer.Serialize(value, Options));
            output.Flush();
        }
    }
}
