namespace DistributedBackprop.Cluster.Telemetry;

/// <summary>
/// Where one global step's wall time went, in seconds, as the coordinator sees it.
/// </summary>
/// <param name="Total">From sending the step to the workers until every shard has applied its update.</param>
/// <param name="Compute">The slowest rank's forward and backward passes: the step's critical path.</param>
/// <param name="Reduce">The slowest rank's hand-off to its silo's reducer (in-silo joins and the pushes to the
/// shards), plus the shards joining the root and returning their sums of squares.</param>
/// <param name="Optimizer">The shards clipping and applying the optimizer to their slices.</param>
public readonly record struct StepPhases(double Total, double Compute, double Reduce, double Optimizer)
{
    /// <summary>The rest: parameter pulls, message latency and the time fast ranks wait for slow ones. Never
    /// negative, although the parts come from different clocks.</summary>
    public double Waiting => Math.Max(0, Total - Compute - Reduce - Optimizer);
}
