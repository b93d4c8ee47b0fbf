using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Core.Tests.Training;

public sealed class TrainerDeterminismTests
{
    private static readonly ModelSpec SmallCnn = new(
    [
        new("conv2d") { Filters = 4, KernelSize = 3, Padding = 1 },
        new("batchnorm"),
        new("relu"),
        new("maxpool2d") { Size = 2 },
        new("flatten"),
        new("dropout") { Rate = 0.25f },
        new("dense") { Units = 16 },
        new("relu"),
        new("dense") { Units = 4 },
    ]);

    private static readonly ModelSpec SmallMlp = new(
    [
        new("flatten"),
        new("dense") { Units = 24 },
        new("tanh"),
        new("dense") { Units = 4 },
    ]);

    [Fact]
    public void Run_SameSeed_GivesBitIdenticalWeights()
    {
        var first = Train(SmallCnn, Options(seed: 7));
        var second = Train(SmallCnn, Options(seed: 7));

        Assert.Equal(first, second);
    }

    [Fact]
    public void Run_DifferentSeed_GivesDifferentWeights()
    {
        var first = Train(SmallCnn, Options(seed: 7));
        var second = Train(SmallCnn, Options(seed: 8));

        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Run_MicroBatches_IndependentOfThreadCount(int threads)
    {
        var options = Options(seed: 11) with { MicroBatches = 4, ClipNorm = 0.5f };
        var oneThread = Train(SmallCnn, options with { Threads = 1 });
        var many = Train(SmallCnn, options with { Threads = threads });

        Assert.Equal(oneThread, many);
    }

    [Fact]
    public void Run_OneMicroBatchAndFour_DifferOnlyByRounding()
    {
        // Without batch-dependent layers, micro-batching changes only the summation order.
        var options = Options(seed: 3) with { Epochs = 1 };
        var whole = Train(SmallMlp, options with { MicroBatches = 1 });
        var split = Train(SmallMlp, options with { MicroBatches = 4 });

        Assert.NotEqual(whole, split);
        for (int i = 0; i < whole.Length; i++)
        {
            Assert.True(Math.Abs(whole[i] - split[i]) <= 1e-4f * (1 + Math.Abs(whole[i])), $"parameter {i}");
        }
    }

    [Fact]
    public void Run_LearnsTheSyntheticTask()
    {
        var data = SyntheticData.Create(1024, [1, 6, 6], 4, seed: 1);
        var test = SyntheticData.Create(256, [1, 6, 6], 4, seed: 1, name: "synthetic-test");
        var trainer = new Trainer(SmallMlp, data, test, Options(seed: 1) with { Epochs = 8 });

        var before = trainer.Evaluate();
        var result = trainer.Run();

        Assert.True(
            result.TestAccuracy > before.Accuracy + 0.2,
            $"accuracy {before.Accuracy} -> {result.TestAccuracy}");
    }

    [Fact]
    public void Run_NonFiniteGradient_StopsNamingTheStep()
    {
        // One poisoned row (an infinite pixel) makes the loss of whichever step samples it NaN.
        var clean = SyntheticData.Create(256, [1, 6, 6], 4, seed: 1);
        var features = clean.Features.ToArray();
        features[100 * 36] = float.PositiveInfinity;
        var data = new Dataset("poisoned", features, clean.Labels.ToArray(), [1, 6, 6], 4);
        var trainer = new Trainer(SmallMlp, data, data, Options(seed: 1));

        var error = Assert.Throws<TrainingException>(() => trainer.Run());

        Assert.Matches(@"^Step \d+ \(epoch 1, step \d+\)", error.Message);
        Assert.Contains("not finite", error.Message, StringComparison.Ordinal);
    }

    private static TrainingOptions Options(ulong seed) => new()
    {
        Epochs = 2,
        BatchSize = 32,
        MicroBatches = 2,
        Seed = seed,
        Threads = 1,
        Optimizer = new OptimizerSettings(OptimizerKind.Adam) { LearningRate = 3e-3f },
    };

    private static float[] Train(ModelSpec spec, TrainingOptions options)
    {
        var data = SyntheticData.Create(256, [1, 6, 6], 4, seed: 2);
        var trainer = new Trainer(spec, data, data, options);
        trainer.Run();
        return trainer.Model.Parameters.ToArray();
    }
}
