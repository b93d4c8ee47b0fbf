namespace DistributedBackprop.Core.Optimizers;

/// <summary>The update rule a parameter shard applies.</summary>
public enum OptimizerKind
{
    /// <summary>Plain stochastic gradient descent: θ -= lr·g.</summary>
    Sgd,

    /// <summary>SGD with a heavy-ball momentum buffer.</summary>
    Momentum,

    /// <summary>SGD with Nesterov momentum.</summary>
    Nesterov,

    /// <summary>RMSprop, optionally centered and with a momentum buffer.</summary>
    RmsProp,

    /// <summary>Adam; weight decay, if any, is L2 added to the gradient.</summary>
    Adam,

    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,
}

/// <summary>
/// The optimizer and its hyper-parameters. Immutable; defaults depend on the kind given to the constructor
/// and match PyTorch's where it has them (Adam: lr 1e-3, betas 0.9/0.999, epsilon 1e-8; AdamW adds weight
/// decay 0.01; RMSprop: lr 1e-2, rho 0.99, epsilon 1e-8, no momentum; Momentum/Nesterov: lr 1e-2,
/// momentum 0.9). Change fields with <c>with { ... }</c>; changing <see cref="Kind"/> that way keeps the
/// other values as they are.
/// </summary>
/// <param name="Kind">Which update rule; decides which fields are read.</param>
public sealed record OptimizerSettings(OptimizerKind Kind)
{
    /// <summary>Adam with its defaults.</summary>
    public OptimizerSettings()
        : this(OptimizerKind.Adam)
    {
    }

    /// <summary>Base learning rate; a schedule scales it per step. Must be &gt; 0.</summary>
    public float LearningRate { get; init; } = Kind is OptimizerKind.Adam or OptimizerKind.AdamW ? 1e-3f : 1e-2f;

    /// <summary>
    /// Momentum coefficient μ in [0, 1): the buffer of Momentum and Nesterov (must be &gt; 0 there) and the
    /// optional buffer of RMSprop (0 means none). Must be 0 for Sgd; ignored by Adam and AdamW.
    /// </summary>
    public float Momentum { get; init; } = Kind is OptimizerKind.Momentum or OptimizerKind.Nesterov ? 0.9f : 0f;

    /// <summary>Adam's decay rate of the first-moment average, in [0, 1).</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's decay rate of the second-moment average, in [0, 1).</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Added to the denominator of RMSprop and Adam to keep it away from zero; must be &gt; 0.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>RMSprop's decay rate of the squared-gradient average (PyTorch's alpha), in [0, 1).</summary>
    public float Rho { get; init; } = 0.99f;

    /// <summary>RMSprop only: normalise by an estimate of the gradient's variance, not its second moment.</summary>
    public bool Centered { get; init; }

    /// <summary>
    /// Weight decay λ ≥ 0, applied to <see cref="Parameters.ParameterKind.Weight"/> segments only: as L2
    /// (g += λθ) for every kind but AdamW, decoupled (θ -= lr·λ·θ) for AdamW.
    /// </summary>
    public float WeightDecay { get; init; } = Kind == OptimizerKind.AdamW ? 1e-2f : 0f;

    /// <summary>Every problem with these settings, each naming the field, the value and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(Kind))
        {
            problems.Add($"kind must be one of {string.Join(", ", Enum.GetNames<OptimizerKind>())}, got {(int)Kind}");
        }

        if (!(LearningRate > 0f) || !float.IsFinite(LearningRate))
        {
            problems.Add($"learningRate must be > 0 and finite, got {LearningRate}");
        }

        if (!(WeightDecay >= 0f) || !float.IsFinite(WeightDecay))
        {
            problems.Add($"weightDecay must be >= 0 and finite, got {WeightDecay}");
        }

        switch (Kind)
        {
            case OptimizerKind.Sgd when Momentum != 0f:
                problems.Add($"momentum must be 0 for kind Sgd, got {Momentum}; choose kind Momentum or Nesterov");
                break;
            case OptimizerKind.Momentum or OptimizerKind.Nesterov when !(Momentum > 0f && Momentum < 1f):
                problems.Add($"momentum must be in (0, 1) for kind {Kind}, got {Momentum}");
                break;
            case OptimizerKind.RmsProp:
                if (!(Momentum >= 0f && Momentum < 1f))
                {
                    problems.Add($"momentum must be in [0, 1) for kind RmsProp, got {Momentum}");
                }

                if (!(Rho >= 0f && Rho < 1f))
                {
                    problems.Add($"rho must be in [0, 1), got {Rho}");
                }

                AddEpsilonProblem(problems);
                break;
            case OptimizerKind.Adam or OptimizerKind.AdamW:
                if (!(Beta1 >= 0f && Beta1 < 1f))
                {
                    problems.Add($"beta1 must be in [0, 1), got {Beta1}");
                }

                if (!(Beta2 >= 0f && Beta2 < 1f))
                {
                    problems.Add($"beta2 must be in [0, 1), got {Beta2}");
                }

                AddEpsilonProblem(problems);
                break;
        }

        if (Centered && Kind != OptimizerKind.RmsProp)
        {
            problems.Add($"centered applies to kind RmsProp only, got true for kind {Kind}");
        }

        return problems;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem, if there are any.</summary>
    public void ThrowIfInvalid()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid optimizer settings: " + string.Join("; ", problems) + ".");
        }
    }

    private void AddEpsilonProblem(List<string> problems)
    {
        if (!(Epsilon > 0f) || !float.IsFinite(Epsilon))
        {
            problems.Add($"epsilon must be > 0 and finite, got {Epsilon}");
        }
    }
}
