using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Tests.Infrastructure;

/// <summary>Run specs for tests: small enough to finish in seconds.</summary>
public static class Specs
{
    /// <summary>
    /// With <see cref="SyntheticDataset.Small"/> (256 training rows): 8 micro-batches of 4 rows, 4 epochs of
    /// 8 steps (32 steps), global-norm clipping tight enough to act on most steps (0 turns it off, which lets
    /// the shards apply each update without waiting for the coordinator).
    /// </summary>
    public static RunSpec Small(
        string datasetDirectory,
        int workers,
        int shards,
        string optimizer = "adam",
        string preset = "mlp",
        ulong seed = 11,
        float clipNorm = 0.5f) => new()
    {
        Preset = preset,
        DatasetDirectory = datasetDirectory,
        Optimizer = new OptimizerSpec { Kind = optimizer, LearningRate = 0.01f },
        ClipNorm = clipNorm,
        BatchSize = 32,
        MicroBatches = 8,
        Epochs = 4,
        Workers = workers,
        ParameterShards = shards,
        Seed = seed,
        StepEventInterval = 1,
    };
}
