namespace DistributedBackprop.Core.Optimizers;

/// <summary>
/// The learning rate of each optimizer step, a pure function of the 0-based step so that every shard and a
/// resumed run agree without sharing state.
/// </summary>
/// <remarks>
/// Warm-up: step s &lt; W uses base·(s + 1)/W, so the first step already moves and step W - 1 reaches the
/// base rate. After warm-up, with t = s - W steps since it ended: Constant gives base; Step gives
/// base·gamma^floor(t / stepSize); Cosine gives min + (base - min)·(1 + cos(π·t / (T - W)))/2 for t &lt; T - W
/// and min afterwards (T = totalSteps), which is SGDR's annealing without restarts (Loshchilov and Hutter,
/// "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017). Computed in double, returned as float.
/// </remarks>
public sealed class LearningRateSchedule
{
    /// <exception cref="ArgumentException">The settings are invalid; the message lists every problem.</exception>
    public LearningRateSchedule(ScheduleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid learning-rate schedule: " + string.Join("; ", problems) + ".");
        }

        Settings = settings;
    }

    public ScheduleSettings Settings { get; }

    /// <summary>The learning rate of 0-based step <paramref name="step"/>.</summary>
    public float LearningRateAt(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        double baseRate = Settings.BaseLearningRate;
        long warmup = Settings.WarmupSteps;
        if (step < warmup)
        {
            return (float)(baseRate * (step + 1) / warmup);
        }

        long t = step - warmup;
        switch (Settings.Kind)
        {
            case ScheduleKind.Step:
                return (float)(baseRate * Math.Pow(Settings.Gamma, t / Settings.StepSize));
            case ScheduleKind.Cosine:
                double minimum = Settings.MinimumLearningRate;
                long length = Settings.TotalSteps - warmup;
                if (t >= length)
                {
                    return (float)minimum;
                }

                return (float)(minimum + (baseRate - minimum) * 0.5 * (1 + Math.Cos(Math.PI * t / length)));
            default:
                return (float)baseRate;
        }
    }
}
