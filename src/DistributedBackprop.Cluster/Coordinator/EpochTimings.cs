using DistributedBackprop.Cluster.Messages;

namespace DistributedBackprop.Cluster.Coordinator;

/// <summary>
/// Where one epoch's training steps spent their time and what crossed silos, summed over the epoch's steps
/// (evaluation excluded). Divide by <see cref="Steps"/> (and by <see cref="Workers"/> or <see cref="Silos"/> for
/// the per-worker and per-silo sums) for one step's averages.
/// </summary>
/// <param name="Epoch">1-based.</param>
/// <param name="StepSeconds">The coordinator's wall time of the steps, from ordering the workers to the last
/// shard's update.</param>
/// <param name="WorkerPhaseSeconds">Wall time until every worker had returned (steps 2-3 of the protocol).</param>
/// <param name="PullSeconds">Worker-measured time to get the parameter version, summed over workers.</param>
/// <param name="ComputeSeconds">Forward, backward and the worker's own tree folds, summed over workers.</param>
/// <param name="ReduceSeconds">Worker-measured time handing nodes to the reducer (waiting for the other local
/// workers, then the pushes), summed over workers.</param>
/// <param name="Pull">The reducers' parameter fetches, summed over silos.</param>
/// <param name="Push">The reducers' gradient pushes to the shards, summed over silos.</param>
/// <param name="OptimizerSeconds">Per step, the slowest shard's join and norm preparation plus the slowest
/// shard's clipping and optimizer update, as the shards measured them.</param>
/// <param name="ShardPhaseSeconds">The coordinator's wall time of the shard calls (step 4), messaging included.</param>
/// <param name="CrossSiloWallSeconds">Per step, the wall time during which at least one silo was moving a payload
/// across silos: the union of the reducers' fetch and push spans that crossed silos, laid out on the silos' UTC
/// clocks. Exact when the silos share a host; across hosts only as good as their clock synchronisation.
/// <see cref="Pull"/> and <see cref="Push"/> sum each silo's own spans instead, so concurrent transfers of
/// different silos count there once per silo.</param>
[GenerateSerializer, Immutable, Alias("dbp.EpochTimings")]
public sealed record EpochTimings(
    [property: Id(0)] int Epoch,
    [property: Id(1)] int Steps,
    [property: Id(2)] int Workers,
    [property: Id(3)] int Silos,
    [property: Id(4)] double StepSeconds,
    [property: Id(5)] double WorkerPhaseSeconds,
    [property: Id(6)] double PullSeconds,
    [property: Id(7)] double ComputeSeconds,
    [property: Id(8)] double ReduceSeconds,
    [property: Id(9)] TransferReport Pull,
    [property: Id(10)] TransferReport Push,
    [property: Id(11)] double OptimizerSeconds,
    [property: Id(12)] double ShardPhaseSeconds,
    [property: Id(13)] double CrossSiloWallSeconds = 0)
{
    /// <summary>An epoch with no steps yet.</summary>
    public static EpochTimings Start(int epoch, int workers, int silos) =>
        new(epoch, 0, workers, silos, 0, 0, 0, 0, 0, default, default, 0, 0);

    /// <summary>These sums with one more step.</summary>
    public EpochTimings AddStep(
        double stepSeconds,
        double workerPhaseSeconds,
        IReadOnlyList<WorkerStepResult> results,
        double optimizerSeconds,
        double shardPhaseSeconds)
    {
        ArgumentNullException.ThrowIfNull(results);
        var sums = this with
        {
            Steps = Steps + 1,
            StepSeconds = StepSeconds + stepSeconds,
            WorkerPhaseSeconds = WorkerPhaseSeconds + workerPhaseSeconds,
            OptimizerSeconds = OptimizerSeconds + optimizerSeconds,
            ShardPhaseSeconds = ShardPhaseSeconds + shardPhaseSeconds,
            CrossSiloWallSeconds = CrossSiloWallSeconds + CrossSiloUnionSeconds(results),
        };
        foreach (var result in results)
        {
            var t = result.Timings;
            sums = sums with
            {
                PullSeconds = sums.PullSeconds + t.ParameterPullSeconds,
                ComputeSeconds = sums.ComputeSeconds + t.ComputeSeconds,
                ReduceSeconds = sums.ReduceSeconds + t.ReduceSeconds,
                Pull = sums.Pull.Add(t.Pull),
                Push = sums.Push.Add(t.Push),
            };
        }

        return sums;
    }

    // The length of the union of the step's cross-silo transfer spans.
    private static double CrossSiloUnionSeconds(IReadOnlyList<WorkerStepResult> results)
    {
        var spans = results
            .SelectMany(r => new[] { r.Timings.Pull, r.Timings.Push })
            .Where(t => t.CrossSiloBytes > 0)
            .Select(t => (Start: t.StartedUtcTicks, End: t.EndedUtcTicks))
            .OrderBy(s => s.Start)
            .ToList();
        long covered = 0;
        long reached = long.MinValue;
        foreach (var (start, end) in spans)
        {
            long from = Math.Max(start, reached);
            if (end > from)
            {
                covered += end - from;
            }

            reached = Math.Max(reached, end);
        }

        return TimeSpan.FromTicks(covered).TotalSeconds;
    }
}
