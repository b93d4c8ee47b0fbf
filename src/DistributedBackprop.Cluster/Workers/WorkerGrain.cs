using System.Diagnostics;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Reduction;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Core.Reduction;
using Microsoft.Extensions.Options;

namespace DistributedBackprop.Cluster.Workers;

/// <summary>
/// One rank of a run (step 2 of the protocol on <c>CoordinatorGrain</c>): computes the gradients of its
/// micro-batches [r·M/N, (r+1)·M/N) and folds them into the maximal nodes of the canonical tree inside that
/// range, which it hands to its silo's reducer by reference.
/// </summary>
[RunPlacement]
public sealed class WorkerGrain(IOptions<TrainingSiloOptions> options, ILocalSiloDetails silo) : Grain, IWorkerGrain
{
    private WorkerSetup? _setup;
    private ModelReplica? _replica;
    private IReducerGrain? _reducer;
    private long _version = -1;

    // The tree nodes this rank contributes, one accumulator each; the accumulators pool their buffers, so a
    // steady-state step allocates no gradient arrays.
    private List<TreeNode> _nodes = [];
    private readonly List<MicroBatchAccumulator> _accumulators = [];

    public Task<WorkerInfo> JoinAsync(WorkerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var key = RunGrainKey.Parse(this.GetPrimaryKeyString());
        if (key.RunId != setup.RunId || key.Index != setup.Rank || key.Count != setup.Workers)
        {
            throw new ArgumentException(
                $"Worker {this.GetPrimaryKeyString()} was sent the setup of rank {setup.Rank} of {setup.Workers} "
                + $"in run {setup.RunId}.");
        }

        _setup = setup;
        _replica = ModelReplica.Create(setup.Spec, options.Value.DataDirectory);
        string siloName = silo.SiloAddress.ToParsableString();
        _reducer = GrainFactory.GetGrain<IReducerGrain>(RunGrainKey.Reducer(setup.RunId, siloName));
        _version = -1;

        int microBatches = setup.Spec.MicroBatches;
        var (start, end) = RunPlan.MicroBatchRange(setup.Rank, setup.Workers, microBatches);
        _nodes = MicroBatchTree.Decompose(start, end, microBatches);
        _accumulators.Clear();
        foreach (var _ in _nodes)
        {
            _accumulators.Add(new MicroBatchAccumulator(_replica.Layout.Count));
        }

        var data = _replica.Data;
        return Task.FromResult(new WorkerInfo(
            setup.Rank,
            siloName,
            data.Train.Count,
            data.Test.Count,
            data.Train.SampleShape.ToArray(),
            data.Train.ClassCount,
            _replica.Layout.Count));
    }

    public async Task<WorkerStepResult> ComputeStepAsync(StepOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var (setup, replica, reducer) = RequireJoined();
        long started = Stopwatch.GetTimestamp();
        await PullParametersAsync(reducer, replica, order.Version);
        long pulled = Stopwatch.GetTimestamp();

        int microBatches = setup.Spec.MicroBatches;
        var (first, end) = RunPlan.MicroBatchRange(setup.Rank, setup.Workers, microBatches);
        var lossSums = new double[end - first];
        var correct = new int[end - first];
        var sums = new NodeSum[_nodes.Count];
        for (int n = 0; n < _nodes.Count; n++)
        {
            var node = _nodes[n];
            var accumulator = _accumulators[n];
            accumulator.Reset(microBatches);
            for (int m = node.Start; m < node.End; m++)
            {
                var gradient = accumulator.Rent();
                (lossSums[m - first], correct[m - first]) =
                    replica.ComputeMicroBatch(order.Epoch, order.Step, m, microBatches, gradient);
                accumulator.Push(m, gradient);
            }

            sums[n] = new NodeSum(node.Start, node.End, accumulator.Finish());
        }

        long computed = Stopwatch.GetTimestamp();
        await reducer.ContributeAsync(new WorkerContribution(order.GlobalStep, setup.Rank, sums));
        long reduced = Stopwatch.GetTimestamp();

        var timings = new StepTimings(
            Stopwatch.GetElapsedTime(started, pulled).TotalSeconds,
            Stopwatch.GetElapsedTime(pulled, computed).TotalSeconds,
            Stopwatch.GetElapsedTime(computed, reduced).TotalSeconds);
        return new WorkerStepResult(setup.Rank, lossSums, correct, timings);
    }

    public async Task<EvaluationResult> EvaluateAsync(long version, int rowStart, int rowEnd)
    {
        var (setup, replica, reducer) = RequireJoined();
        await PullParametersAsync(reducer, replica, version);
        var (lossSum, correct) = replica.Evaluate(rowStart, rowEnd);
        return new EvaluationResult(setup.Rank, lossSum, correct, rowEnd - rowStart);
    }

    public Task LeaveAsync()
    {
        _replica = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    // The reducer fetches each version once per silo; the replica copies it, so the shared array stays intact.
    private async Task PullParametersAsync(IReducerGrain reducer, ModelReplica replica, long version)
    {
        if (version != _version)
        {
            var parameters = await reducer.GetParametersAsync(version);
            replica.SetParameters(parameters.Value);
            _version = version;
        }
    }

    private (WorkerSetup Setup, ModelReplica Replica, IReducerGrain Reducer) RequireJoined() =>
        _setup is not null && _replica is not null && _reducer is not null
            ? (_setup, _replica, _reducer)
            : throw new InvalidOperationException($"Worker {this.GetPrimaryKeyString()} has not joined its run.");
}
