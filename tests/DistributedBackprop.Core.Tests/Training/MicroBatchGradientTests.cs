using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Core.Tests.Training;

public sealed class MicroBatchGradientTests
{
    // Every kind of layer that owns gradient slots: conv, batch norm (trained and running statistics), dense.
    private static readonly ModelSpec SmallCnn = new(
    [
        new("conv2d") { Filters = 3, KernelSize = 3, Padding = 1 },
        new("batchnorm"),
        new("relu"),
        new("maxpool2d") { Size = 2 },
        new("flatten"),
        new("dense") { Units = 4 },
    ]);

    [Fact]
    public void Compute_IntoOwnBuffer_MatchesModelGradientsAndOverwritesEveryElement()
    {
        var data = SyntheticData.Create(64, [1, 6, 6], 4, seed: 5);
        var options = new TrainingOptions { BatchSize = 16, MicroBatches = 2, Seed = 3, Threads = 2 };
        var reference = new MicroBatchGradient(Trainer.CreateModel(SmallCnn, data, options.Seed), data, options);
        var direct = new MicroBatchGradient(Trainer.CreateModel(SmallCnn, data, options.Seed), data, options);
        var leaf = new float[direct.Model.Layout.Count];
        Array.Fill(leaf, float.NaN);
        var untouched = direct.Model.Gradients.ToArray();

        var expected = reference.Compute(epoch: 0, step: 1, microBatch: 1);
        var actual = direct.Compute(epoch: 0, step: 1, microBatch: 1, leaf);

        Assert.Equal(expected, actual);
        Assert.Equal(reference.Model.Gradients, leaf);
        Assert.Equal(untouched, direct.Model.Gradients);
    }

    [Fact]
    public void Compute_AfterOwnBuffer_WritesModelGradientsAgain()
    {
        var data = SyntheticData.Create(64, [1, 6, 6], 4, seed: 5);
        var options = new TrainingOptions { BatchSize = 16, MicroBatches = 2, Seed = 3, Threads = 1 };
        var gradient = new MicroBatchGradient(Trainer.CreateModel(SmallCnn, data, options.Seed), data, options);
        var leaf = new float[gradient.Model.Layout.Count];

        gradient.Compute(epoch: 0, step: 0, microBatch: 0, leaf);
        gradient.Compute(epoch: 0, step: 0, microBatch: 0);

        Assert.Equal(leaf, gradient.Model.Gradients);
    }

    [Fact]
    public void UseParameters_OtherVector_ReadsItInPlaceAndLeavesBothVectorsUnchanged()
    {
        var data = SyntheticData.Create(64, [1, 6, 6], 4, seed: 5);
        var options = new TrainingOptions { BatchSize = 16, MicroBatches = 2, Seed = 3, Threads = 1 };
        var reference = new MicroBatchGradient(Trainer.CreateModel(SmallCnn, data, options.Seed), data, options);
        var shared = new MicroBatchGradient(Trainer.CreateModel(SmallCnn, data, seed: 99), data, options);
        var vector = reference.Model.Parameters.ToArray();
        var own = shared.Model.Parameters.ToArray();
        Assert.NotEqual(vector, own);

        shared.UseParameters(vector);
        var expected = reference.Compute(epoch: 0, step: 2, microBatch: 0);
        var actual = shared.Compute(epoch: 0, step: 2, microBatch: 0);
        var leaf = new float[shared.Model.Layout.Count];
        shared.Compute(epoch: 0, step: 2, microBatch: 0, leaf);

        Assert.Equal(expected, actual);
        Assert.Equal(reference.Model.Gradients, shared.Model.Gradients);
        Assert.Equal(reference.Model.Gradients, leaf);
        Assert.Equal(reference.Model.Parameters, vector);
        Assert.Equal(own, shared.Model.Parameters);
    }

    [Fact]
    public void Compute_WrongLength_NamesBothLengths()
    {
        var data = SyntheticData.Create(64, [1, 6, 6], 4, seed: 5);
        var options = new TrainingOptions { BatchSize = 16, MicroBatches = 2, Seed = 3 };
        var gradient = new MicroBatchGradient(Trainer.CreateModel(SmallCnn, data, options.Seed), data, options);

        var error = Assert.Throws<ArgumentException>(() => gradient.Compute(0, 0, 0, new float[3]));

        Assert.Contains("3 elements", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{gradient.Model.Layout.Count}", error.Message, StringComparison.Ordinal);
    }
}
