using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// Stochastic gradient descent: plain, with heavy-ball momentum (Polyak, "Some methods of speeding up the
/// convergence of iteration methods", 1964) or with Nesterov momentum as used in deep learning (Sutskever
/// et al., "On the importance of initialization and momentum in deep learning", ICML 2013).
/// </summary>
/// <remarks>
/// PyTorch's formulation, without dampening: d = g + λθ (λ for weights only); with momentum
/// v = μv + d, then θ -= lr·v, or for Nesterov θ -= lr·(d + μv). The buffer starts at zero, so the first
/// step sets v = d exactly as PyTorch does.
/// </remarks>
public sealed class Sgd : Optimizer
{
    private readonly bool _hasBuffer;
    private readonly bool _nesterov;

    internal Sgd(OptimizerSettings settings, ParameterLayout layout, int start, int end)
        : base(settings, layout, start, end, settings.Kind == OptimizerKind.Sgd ? [] : ["momentumBuffer"])
    {
        _hasBuffer = settings.Kind != OptimizerKind.Sgd;
        _nesterov = settings.Kind == OptimizerKind.Nesterov;
    }

    private protected override void UpdateRun(
        int offset,
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        float weightDecay,
        float learningRate,
        long step)
    {
        var buffer = _hasBuffer ? StateOf(0, offset, parameters.Length) : [];
        Update(parameters, gradients, buffer, learningRate, Settings.Momentum, weightDecay, _hasBuffer, _nesterov);
    }

    // parameters, gradients: (n); buffer: (n), or empty without momentum.
    internal static void Update(
        Span<float> parameters,
        ReadOnlySpan<float> gradients,
        Span<float> buffer,
        float learningRate,
        float momentum,
        float weightDecay,
        bool hasBuffer,
        bool nesterov)
    {
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float v = ref MemoryMarshal.GetReference(buffer);
        int n = parameters.Length;
        int i = 0;

        if (Vector512.IsHardwareAccelerated)
        {
            var lr = Vector512.Create(learningRate);
            var mu = Vector512.Create(momentum);
            var decay = Vector512.Create(weightDecay);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var theta = Vector512.LoadUnsafe(ref p, (nuint)i);
                var d = Vector512.LoadUnsafe(ref g, (nuint)i) + decay * theta;
                if (hasBuffer)
                {
                    var velocity = mu * Vector512.LoadUnsafe(ref v, (nuint)i) + d;
                    velocity.StoreUnsafe(ref v, (nuint)i);
                    d = nesterov ? d + mu * velocity : velocity;
                }

                (theta - lr * d).StoreUnsafe(ref p, (nuint)i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var lr = Vector256.Create(learningRate);
            var mu = Vector256.Create(momentum);
            var decay = Vector256.Create(weightDecay);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var theta = Vector256.LoadUnsafe(ref p, (nuint)i);
                var d = Vector256.LoadUnsafe(ref g, (nuint)i) + decay * theta;
                if (hasBuffer)
                {
                    var velocity = mu * Vector256.LoadUnsafe(ref v, (nuint)i) + d;
                    velocity.StoreUnsafe(ref v, (nuint)i);
                    d = nesterov ? d + mu * velocity : velocity;
                }

                (theta - lr * d).StoreUnsafe(ref p, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float theta = parameters[i];
            float d = gradients[i] + weightDecay * theta;
            if (hasBuffer)
            {
                float velocity = momentum * buffer[i] + d;
                buffer[i] = velocity;
                d = nesterov ? d + momentum * velocity : velocity;
            }

            parameters[i] = theta - learningRate * d;
        }
    }
}
