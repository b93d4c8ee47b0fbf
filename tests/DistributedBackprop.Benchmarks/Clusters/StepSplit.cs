using DistributedBackprop.Cluster.Coordinator;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>
/// One step's wall time split the way a worker lives it, averaged over the epoch's steps: computing its
/// micro-batches, its silo's transfers (parameter fetch and gradient pushes, which every local worker waits
/// for), the shards' optimizer work, and the rest, waiting (for slower workers, the reducer, messaging and
/// the coordinator). In milliseconds.
/// </summary>
internal readonly record struct StepSplit(
    double StepMs,
    double ComputeMs,
    double TransferMs,
    double OptimizerMs,
    double WaitingMs)
{
    public static StepSplit From(EpochTimings t)
    {
        double step = 1000 * t.StepSeconds / t.Steps;
        double compute = 1000 * t.ComputeSeconds / (t.Steps * t.Workers);
        double transfer = 1000 * (t.Pull.Seconds + t.Push.Seconds) / (t.Steps * t.Silos);
        double optimizer = 1000 * t.OptimizerSeconds / t.Steps;
        return new StepSplit(step, compute, transfer, optimizer, step - compute - transfer - optimizer);
    }

    public double Percent(double ms) => 100 * ms / StepMs;
}
