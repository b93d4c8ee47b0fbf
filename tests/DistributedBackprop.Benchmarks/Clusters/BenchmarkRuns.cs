using System.Runtime.InteropServices;
using DistributedBackprop.Cluster.Coordinator;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Cluster.Serialization;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>The single-process trainer's last epoch: its training samples per second and final parameters.</summary>
internal sealed record SingleProcessResult(double SamplesPerSecond, float[] Parameters);

/// <summary>A cluster run's last epoch: samples per second (evaluation excluded), where its steps spent their
/// time, and the final parameters after <paramref name="Steps"/> steps.</summary>
internal sealed record ClusterResult(
    string RunId,
    double SamplesPerSecond,
    EpochTimings Timings,
    float[] Parameters,
    long Steps);

/// <summary>Runs one spec on the single-process trainer or on a cluster; the last epoch is the measured one
/// (the first one warms up the JIT, the caches and the connections).</summary>
internal static class BenchmarkRuns
{
    public const int BatchSize = 128;
    public const int MicroBatches = 4;
    public const int Epochs = 2;

    public static RunSpec Spec(string preset, string datasetDirectory, int workers, int shards) => new()
    {
        Preset = preset,
        DatasetDirectory = datasetDirectory,
        Optimizer = new OptimizerSpec { Kind = "adam", LearningRate = 0.001f },
        BatchSize = BatchSize,
        MicroBatches = MicroBatches,
        Epochs = Epochs,
        Workers = workers,
        ParameterShards = shards,
        Seed = 42,

        // Evaluate after the last epoch only; the trainer evaluates every epoch, outside its timed steps.
        EvaluateEveryEpochs = Epochs,
    };

    /// <summary>The spec on <see cref="Trainer"/> with one thread per core.</summary>
    public static SingleProcessResult Single(RunSpec spec)
    {
        var data = DatasetCatalog.Default.Load(RunSpecMapping.Dataset(spec));
        var options = RunSpecMapping.ToTrainingOptions(spec, threads: Environment.ProcessorCount);
        var trainer = new Trainer(RunSpecMapping.ToModelSpec(spec), data.Train, data.Test, options);
        var observer = new LastEpoch();
        trainer.Run(observer);
        return new SingleProcessResult(observer.SamplesPerSecond, (float[])trainer.Model.Parameters.Clone());
    }

    /// <summary>The spec as run <paramref name="runId"/> on a cluster, followed to its end.</summary>
    /// <exception cref="InvalidOperationException">The run failed or was cancelled; carries its reason.</exception>
    public static async Task<ClusterResult> ClusterAsync(IGrainFactory grains, string runId, RunSpec spec)
    {
        var coordinator = grains.GetGrain<ICoordinatorGrain>(runId);
        await coordinator.StartAsync(spec);
        var epochs = new List<EpochCompleted>();
        ulong after = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(30);
        while (true)
        {
            var events = await coordinator.WaitForEventsAsync(after, 1000, TimeSpan.FromSeconds(5));
            foreach (var e in events)
            {
                after = e.Sequence;
                switch (e.EventCase)
                {
                    case RunEvent.EventOneofCase.EpochCompleted:
                        epochs.Add(e.EpochCompleted);
                        break;
                    case RunEvent.EventOneofCase.RunCompleted:
                        var timings = await coordinator.GetEpochTimingsAsync();
                        var parameters = FloatBytes.AsFloats(await coordinator.GetParametersAsync()).ToArray();
                        return new ClusterResult(
                            runId, epochs[^1].SamplesPerSecond, timings[^1], parameters, e.RunCompleted.Steps);
                    case RunEvent.EventOneofCase.RunFailed:
                        throw new InvalidOperationException($"Run {runId} failed: {e.RunFailed.Reason}");
                    case RunEvent.EventOneofCase.RunCancelled:
                        throw new InvalidOperationException($"Run {runId} was cancelled: {e.RunCancelled.Reason}");
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Run {runId} did not finish within 30 minutes.");
            }
        }
    }

    /// <summary>True when both vectors hold the same floats bit for bit (0 and -0 differ, NaNs compare).</summary>
    public static bool BitIdentical(float[] expected, float[] actual) =>
        MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan()));

    private sealed class LastEpoch : ITrainingObserver
    {
        public double SamplesPerSecond { get; private set; }

        public void OnStep(StepReport report)
        {
        }

        public void OnEpoch(EpochReport report) => SamplesPerSecond = report.SamplesPerSecond;
    }
}
