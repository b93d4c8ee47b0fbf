using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Losses;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Tensors;
using DistributedBackprop.Core.Tests.Layers;

namespace DistributedBackprop.Core.Tests.Models;

/// <summary>
/// Whole-model gradient checks of the presets: mean softmax cross-entropy of a small batch, BatchNorm in training
/// mode. For each trained segment, the model's float gradient, projected on a unit direction d inside that
/// segment, is compared with the central difference of an independent double-precision reference
/// (<see cref="PresetReference"/>) along d. d leans on the analytic gradient plus a random component, so the
/// signal is large and a wrong gradient cannot agree by chance (a gradient that should be 0, like a conv bias
/// before BatchNorm, is compared with an absolute floor of 1e-3); double precision keeps the difference free of
/// float noise, and a small step keeps ReLU and max-pool kinks from mattering.
/// </summary>
public sealed class PresetGradientCheckTests
{
    public static TheoryData<string> PresetNames => ["mlp", "cnn", "resnet"];

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Preset_EverySegment_MatchesDoublePrecisionCentralDifferences(string name)
    {
        Assert.True(Presets.TryGet(name, out var spec));
        int[] sampleShape = name == "mlp" ? [1, 28, 28] : [1, 12, 12];
        var model = ModelFactory.Create(spec, sampleShape);
        model.Initialize(5);
        const int Batch = 3;
        var rng = new DeterministicRandom(9);
        var input = new Tensor(ShapeUtil.WithBatch(Batch, sampleShape));
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = rng.NextFloat();
        }

        int[] labels = [3, 1, 7];
        var loss = new SoftmaxCrossEntropyLoss();
        var context = new LayerContext { Training = true, Seed = 1, SampleIds = [0, 1, 2], BatchFraction = 1f };
        var output = model.Forward(input, context);
        var floatLoss = loss.Compute(output, LossTargets.FromLabels(labels), 1f / Batch);
        model.Backward(floatLoss.Gradient, context);
        var gradient = model.Gradients.ToArray();

        var image = new DoubleReference.Image(
            input.Span.ToArray().Select(v => (double)v).ToArray(),
            Batch,
            sampleShape[0],
            sampleShape[1],
            sampleShape[2]);
        var parameters = model.Parameters.Select(v => (double)v).ToArray();
        double referenceLoss = PresetReference.Loss(spec, model.Layout, parameters, image, labels);
        Assert.True(
            Math.Abs(referenceLoss - floatLoss.Loss) < 1e-5 * referenceLoss,
            $"reference loss {referenceLoss} vs model loss {floatLoss.Loss}");

        const double Epsilon = 1e-5;
        foreach (var segment in model.Layout.Segments.Where(s => s.IsTrained))
        {
            var g = gradient.AsSpan(segment.Offset, segment.Length).ToArray();
            double gNorm = Math.Sqrt(g.Sum(v => (double)v * v));
            var direction = g
                .Select(v => (gNorm > 0 ? v / gNorm : 0) + (0.5 * rng.NextGaussian() / Math.Sqrt(g.Length)))
                .ToArray();
            double dNorm = Math.Sqrt(direction.Sum(v => v * v));
            double analytic = 0;
            for (int i = 0; i < direction.Length; i++)
            {
                direction[i] /= dNorm;
                analytic += g[i] * direction[i];
            }

            double numeric = (Shifted(Epsilon) - Shifted(-Epsilon)) / (2 * Epsilon);
            double error = Math.Abs(analytic - numeric) / Math.Max(Math.Abs(analytic) + Math.Abs(numeric), 1e-3);
            Assert.True(
                error < 1e-3,
                $"{name} {segment.Name}: analytic {analytic:G6}, numeric {numeric:G6}, error {error:G3}");

            double Shifted(double step)
            {
                var shifted = (double[])parameters.Clone();
                for (int i = 0; i < direction.Length; i++)
                {
                    shifted[segment.Offset + i] += step * direction[i];
                }

                return PresetReference.Loss(spec, model.Layout, shifted, image, labels);
            }
        }
    }
}
