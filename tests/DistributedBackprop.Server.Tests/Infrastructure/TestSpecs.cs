using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Server.Tests.Infrastructure;

/// <summary>Run specs for the synthetic dataset (256 training rows): steps of milliseconds.</summary>
public static class TestSpecs
{
    /// <summary>mlp, batch 32 in 8 micro-batches (8 steps per epoch), Adam, a step event every step.</summary>
    public static RunSpec Small(string datasetDirectory, int epochs = 3, ulong seed = 11, int workers = 2) => new()
    {
        Preset = "mlp",
        DatasetDirectory = datasetDirectory,
        Optimizer = new OptimizerSpec { Kind = "adam", LearningRate = 0.01f },
        BatchSize = 32,
        MicroBatches = 8,
        Epochs = epochs,
        Workers = workers,
        ParameterShards = 2,
        Seed = seed,
        StepEventInterval = 1,
    };
}
