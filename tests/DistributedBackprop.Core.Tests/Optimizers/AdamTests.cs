using DistributedBackprop.Core.Optimizers;

namespace DistributedBackprop.Core.Tests.Optimizers;

public sealed class AdamTests
{
    [Fact]
    public void Adam_FirstStep_MovesEachWeightByLearningRateTimesSignOfGradient()
    {
        // With bias correction, m̂ = g and v̂ = g² after one step, so the step is lr·g/(|g| + ε) ≈ lr·sign(g)
        // whatever the gradient's scale; without correction it would be lr·0.1/sqrt(0.001)·sign(g) ≈ 3.16·lr.
        var layout = OptimizerTestData.Small();
        var optimizer = Optimizer.Create(new OptimizerSettings(OptimizerKind.Adam), layout, 0, layout.Count);
        var parameters = new float[layout.Count];
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 4);
        for (int i = 0; i < gradients.Length; i++)
        {
            gradients[i] *= MathF.Pow(10f, i % 5 - 2);
        }

        optimizer.Step(parameters, gradients, 1e-3f, 1);

        foreach (var segment in layout.Segments.Where(s => s.IsTrained))
        {
            for (int i = segment.Offset; i < segment.End; i++)
            {
                Assert.Equal(-1e-3 * Math.Sign(gradients[i]), parameters[i], 1e-8);
            }
        }
    }

    [Fact]
    public void AdamW_ZeroGradient_DecaysByLearningRateTimesWeightDecay()
    {
        // Decoupled decay acts on θ directly: θ1 = (1 - lr·λ)·θ0, and the Adam part adds nothing.
        var layout = OptimizerTestData.Small();
        var settings = new OptimizerSettings(OptimizerKind.AdamW) { WeightDecay = 0.1f };
        var optimizer = Optimizer.Create(settings, layout, 0, layout.Count);
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 5);
        var initial = parameters.ToArray();

        optimizer.Step(parameters, new float[layout.Count], 0.01f, 1);

        var weight = layout["weight"];
        for (int i = weight.Offset; i < weight.End; i++)
        {
            Assert.Equal((1 - 0.01 * 0.1) * initial[i], parameters[i], 1e-6);
        }
    }

    [Fact]
    public void AdamWithL2_ZeroGradient_NormalisesTheDecayIntoAFullStep()
    {
        // L2 decay passes through the moments: g = λθ, so the first step is lr·sign(θ) regardless of λ,
        // a hundred times AdamW's lr·λ·|θ| here. This is the difference Loshchilov and Hutter point out.
        var layout = OptimizerTestData.Small();
        var settings = new OptimizerSettings(OptimizerKind.Adam) { WeightDecay = 0.1f };
        var optimizer = Optimizer.Create(settings, layout, 0, layout.Count);
        var parameters = OptimizerTestData.Gaussian(layout.Count, stream: 5);
        var initial = parameters.ToArray();

        optimizer.Step(parameters, new float[layout.Count], 0.01f, 1);

        var weight = layout["weight"];
        for (int i = weight.Offset; i < weight.End; i++)
        {
            Assert.Equal(initial[i] - 0.01 * Math.Sign(initial[i]), parameters[i], 1e-6);
        }
    }

    [Fact]
    public void AdamW_WithGradient_EqualsAdamStepPlusSeparateDecay()
    {
        // θ_AdamW = θ_Adam(λ = 0) - lr·λ·θ0: the decay and the adaptive step do not interact.
        var layout = OptimizerTestData.Small();
        var gradients = OptimizerTestData.Gaussian(layout.Count, stream: 6);
        var initial = OptimizerTestData.Gaussian(layout.Count, stream: 7);
        var decoupled = initial.ToArray();
        var plain = initial.ToArray();
        var adamW = Optimizer.Create(new OptimizerSettings(OptimizerKind.AdamW) { WeightDecay = 0.2f }, layout, 0, 20);
        var adam = Optimizer.Create(new OptimizerSettings(OptimizerKind.Adam), layout, 0, 20);

        adamW.Step(decoupled, gradients, 0.01f, 1);
        adam.Step(plain, gradients, 0.01f, 1);

        var weight = layout["weight"];
        for (int i = weight.Offset; i < weight.End; i++)
        {
            Assert.Equal(plain[i] - 0.01 * 0.2 * initial[i], decoupled[i], 1e-6);
        }

        var bias = layout["bias"];
        Assert.Equal(
            OptimizerTestData.Bits(plain.AsSpan(bias.Offset, bias.Length)),
            OptimizerTestData.Bits(decoupled.AsSpan(bias.Offset, bias.Length)));
    }
}
