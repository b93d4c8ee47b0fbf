namespace DistributedBackprop.Core.Losses;

/// <summary>The form of the targets a loss compares predictions with.</summary>
public enum LossTargetKind
{
    /// <summary>Float values shaped like the predictions.</summary>
    Values,

    /// <summary>One integer class index per row.</summary>
    Labels,
}
