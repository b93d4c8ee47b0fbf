using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// AdamW: Adam with weight decay decoupled from the gradient (Loshchilov and Hutter, "Decoupled Weight Decay
/// Regularization", ICLR 2019).
/// </summary>
/// <remarks>
/// As in PyTorch, weights shrink by θ = (1 - lr·λ)·θ and then take the plain Adam step, all in one pass; the
/// decay scales with the scheduled learning rate. Unlike L2 in Adam, the decay never enters the moment
/// estimates, so it is not divided by sqrt(v). State buffers: firstMoment, secondMoment.
/// </remarks>
public sealed class AdamW : Optimizer
{
    internal AdamW(OptimizerSettings settings, ParameterLayout layout, int start, int end)
        : base(settings, layout, start, end, ["firstMoment", "secondMoment"])
    {
    }

    private protected override void UpdateRun(
        int offset,
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        float weightDecay,
        float learningRate,
        long step)
    {
        int n = parameters.Length;
        float keep = (float)(1.0 - (double)learningRate * weightDecay);
        var coefficients = Adam.Coefficients.For(Settings, learningRate, step, l2Decay: 0f, keep);
        Adam.Update(parameters, gradients, StateOf(0, offset, n), StateOf(1, offset, n), coefficients);
    }
}
