namespace DistributedBackprop.Core.Layers;

/// <summary>
/// What a forward or backward pass needs to know beyond its tensors. One instance per micro-batch pass;
/// the trainer mutates and reuses it, so layers must not keep it.
/// </summary>
public sealed class LayerContext
{
    /// <summary>Training mode: batch statistics in BatchNorm, masks in Dropout.</summary>
    public bool Training { get; set; }

    /// <summary>Upper bound on threads a kernel may use.</summary>
    public int Threads { get; set; } = 1;

    /// <summary>The run's seed; random masks derive from it.</summary>
    public ulong Seed { get; set; }

    /// <summary>Global step number (0-based), so masks differ from step to step.</summary>
    public long Step { get; set; }

    /// <summary>
    /// Identity of each row of the micro-batch: its position in the step's global batch. Random masks
    /// are drawn per (seed, step, sample id, element), so they do not depend on how a batch is split.
    /// Length is the micro-batch size.
    /// </summary>
    public int[] SampleIds { get; set; } = [];

    /// <summary>This micro-batch's share of the global batch (micro-batch size / global batch size).</summary>
    public float BatchFraction { get; set; } = 1f;
}
