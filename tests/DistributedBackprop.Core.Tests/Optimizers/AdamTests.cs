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

    [Theory]
    [InlineData(1)]
    [InlineData(23)]
    [InlineData(1021)]
    public void Update_VectorPaths_BitIdenticalToScalarLoop(int length)
    {
        // 1021 = 63·16 + 8 + 5 runs the 512-bit loop, one 256-bit block and a scalar tail of 5; each width
        // must give the bits of the plain loop below, which is also how the optimizer's tail computes.
        var parameters = OptimizerTestData.Gaussian(length, stream: 8);
        var gradients = OptimizerTestData.Gaussian(length, stream: 9, scale: 0.01f);
        var first = OptimizerTestData.Gaussian(length, stream: 10, scale: 0.01f);
        var second = OptimizerTestData.Gaussian(length, stream: 11, scale: 0.01f).Select(x => x * x).ToArray();
        var c = new Adam.Coefficients(0.9f, 0.999f, 1e-8f, 0.0123f, 0.0447f, L2Decay: 0.01f, Keep: 0.999f);
        var expected = parameters.ToArray();
        var expectedFirst = first.ToArray();
        var expectedSecond = second.ToArray();
        for (int i = 0; i < length; i++)
        {
            float grad = gradients[i] + c.L2Decay * expected[i];
            expectedFirst[i] = c.Beta1 * expectedFirst[i] + (1f - c.Beta1) * grad;
            expectedSecond[i] = c.Beta2 * expectedSecond[i] + (1f - c.Beta2) * (grad * grad);
            float denominator = MathF.Sqrt(expectedSecond[i]) + c.Epsilon * c.Correction2Sqrt;
            expected[i] = c.Keep * expected[i] - c.StepSize * c.Correction2Sqrt * (expectedFirst[i] / denominator);
        }

        Adam.Update(parameters, gradients, first, second, c);

        Assert.Equal(OptimizerTestData.Bits(expectedFirst), OptimizerTestData.Bits(first));
        Assert.Equal(OptimizerTestData.Bits(expectedSecond), OptimizerTestData.Bits(second));
        Assert.Equal(OptimizerTestData.Bits(expected), OptimizerTestData.Bits(parameters));
    }
}
