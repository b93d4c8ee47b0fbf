using System.Globalization;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Core.Tests.Training;

/// <summary>
/// Guards the numerics against silent regressions: the first steps' losses of a fixed run, recorded when the
/// trainer was verified by the gradient, optimizer and determinism tests. A deliberate change to the numerics
/// (a new summation order, another initialiser) changes them; then re-record and say why in the commit.
/// </summary>
public sealed class GoldenLossCurveTests
{
    // Recorded with seed 2024, SyntheticData(768 rows, (1, 8, 8), 5 classes, seed 3), the spec below, Adam 2e-3,
    // batch 32 in 4 micro-batches, clip norm 1, constant learning rate.
    private static readonly double[] Golden =
    [
        2.1393945853356575, 1.952464868056645, 1.6576017183579888, 1.9436015509744098,
        1.6911181189095452, 1.763558780565016, 1.7541453484217513, 1.861043531188838,
        1.8271393364240949, 1.7140338906613226, 1.6858278654392915, 1.7433587227239085,
        1.7774127774353525, 1.8308237181469904, 1.7923530690260976, 1.783937969217208,
        1.7763769230364952, 1.8191513192447784, 1.6538989982208552, 1.7693462521935006,
    ];

    private static readonly ModelSpec Spec = new(
    [
        new("conv2d") { Filters = 4, KernelSize = 3, Padding = 1 },
        new("batchnorm"),
        new("relu"),
        new("maxpool2d") { Size = 2 },
        new("flatten"),
        new("dense") { Units = 16 },
        new("gelu"),
        new("dense") { Units = 5 },
    ]);

    [Fact]
    public void FirstTwentySteps_MatchTheRecordedCurve()
    {
        var data = SyntheticData.Create(768, [1, 8, 8], 5, seed: 3);
        var options = new TrainingOptions
        {
            Epochs = 2,
            BatchSize = 32,
            MicroBatches = 4,
            Seed = 2024,
            Threads = 2,
            ClipNorm = 1f,
            Schedule = ScheduleKind.Constant,
            Optimizer = new OptimizerSettings(OptimizerKind.Adam) { LearningRate = 2e-3f },
        };
        var trainer = new Trainer(Spec, data, data, options);

        var losses = Enumerable.Range(0, 20).Select(step => trainer.Step(0, step).Loss).ToArray();

        string actual = string.Join(", ", losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture)));
        Assert.True(Golden.Length == losses.Length, $"Recorded curve missing; actual: [{actual}]");
        for (int i = 0; i < losses.Length; i++)
        {
            Assert.True(
                Math.Abs(losses[i] - Golden[i]) <= 1e-5 * Golden[i],
                $"step {i + 1}: {losses[i]} vs {Golden[i]}; actual: [{actual}]");
        }

        Assert.True(losses[^1] < losses[0] * 0.9, "the curve must go down");
    }
}
