using System.Diagnostics;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Reduction;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Cluster.Telemetry;
using DistributedBackprop.Core.Reduction;
using Microsoft.Extensions.Options;

namespace DistributedBackprop.Cluster.Workers;

/// <summary>
/// One rank of a run (step 2 of the protocol on <c>CoordinatorGrain</c>): computes the gradients of its
/// micro-batches [r·M/N, (r+1)·M/N) and folds them into the maximal nodes of the canonical tree inside that
/// range, which it hands to its silo's reducer by reference.
/// </summary>
[RunPlacement]
public sealed class WorkerGrain(
    IOptions<TrainingSiloOptions> options,
    ILocalSiloDetails silo,
    TrainingTelemetry telemetry) : Grain, IWorkerGrain
{
    private WorkerSetup? _setup;
    private ModelReplica? _replica;
    private IReducerGrain? _reducer;

    // The silo's parameter vector the replica reads, once the reducer has served it.
    private SiloParameters? _parameters;

    // The tree nodes this rank contributes, one accumulator each; the accumulators pool their buffers, so a
    // steady-state step allocates no gradient arrays.
    private List<TreeNode> _nodes = [];
    private readonly List<MicroBatchAccumulator> _accumulators = [];

    // Forward and backward passes run here, below the priority of the silo's messaging (see ComputeThread);
    // null when the silo's ComputeNiceness is 0, and they run on the grain's turn.
    private ComputeThread? _compute;

    public async Task<WorkerInfo> JoinAsync(WorkerSetup setup)
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
        _replica = ModelReplica.Create(setup.Spec, options.Value.DataDirectory, await ThreadsAsync(setup));
        if (options.Value.ComputeNiceness > 0)
        {
            _compute ??= new ComputeThread($"worker {setup.Rank} compute", options.Value.ComputeNiceness);
        }
        string siloName = silo.SiloAddress.ToParsableString();
        _reducer = GrainFactory.GetGrain<IReducerGrain>(RunGrainKey.Reducer(setup.RunId, siloName));
        _parameters = null;

        int microBatches = setup.Spec.MicroBatches;
        var (start, end) = RunPlan.MicroBatchRange(setup.Rank, setup.Workers, microBatches);
        _nodes = MicroBatchTree.Decompose(start, end, microBatches);
        _accumulators.Clear();
        foreach (var _ in _nodes)
        {
            _accumulators.Add(new MicroBatchAccumulator(_replica.Model.Layout.Count));
        }

        var data = _replica.Data;
        return new WorkerInfo(
            setup.Rank,
            siloName,
            data.Train.Count,
            data.Test.Count,
            data.Train.SampleShape.ToArray(),
            data.Train.ClassCount,
            _replica.Model.Layout.Count);
    }

    public async Task<WorkerStepResult> ComputeStepAsync(StepOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var (setup, replica, reducer) = RequireJoined();
        using var span = TrainingTelemetry.StartSpan(
            TrainingTelemetry.WorkerComputeSpan, setup.RunId, order.GlobalStep);
        span?.SetTag(TrainingTelemetry.RankTag, setup.Rank);
        long started = Stopwatch.GetTimestamp();
        var pull = await PullParametersAsync(reducer, replica, order.Version);
        long pulled = Stopwatch.GetTimestamp();

        int microBatches = setup.Spec.MicroBatches;
        var (first, end) = RunPlan.MicroBatchRange(setup.Rank, setup.Workers, microBatches);
        var (losses, correct, sums) = await RunComputeAsync(() => Compute(replica, order, first, end));
        long computed = Stopwatch.GetTimestamp();
        bool lossesFinite = losses.All(double.IsFinite);
        var reply = await reducer.ContributeAsync(
            new WorkerContribution(order.GlobalStep, setup.Rank, sums, lossesFinite));
        long reduced = Stopwatch.GetTimestamp();

        var timings = new StepTimings(
            Stopwatch.GetElapsedTime(started, pulled).TotalSeconds,
            Stopwatch.GetElapsedTime(pulled, computed).TotalSeconds,
            Stopwatch.GetElapsedTime(computed, reduced).TotalSeconds,
            pull,
            reply.Push);
        int samples = (end - first) * (setup.Spec.BatchSize / microBatches);
        telemetry.WorkerStepCompleted(
            setup.RunId, setup.Rank, samples, Stopwatch.GetElapsedTime(started, reduced).TotalSeconds);
        return new WorkerStepResult(setup.Rank, losses, correct, timings, reply.Reductions);
    }

    public async Task<EvaluationResult> EvaluateAsync(long version, int rowStart, int rowEnd)
    {
        var (setup, replica, reducer) = RequireJoined();
        await PullParametersAsync(reducer, replica, version);

        // One entry per evaluator batch, so the coordinator adds them in the single-process order.
        int batchSize = replica.Options.EvaluationBatchSize;
        var batches = await RunComputeAsync(() =>
        {
            var batches = new List<EvaluationBatch>();
            for (int start = rowStart; start < rowEnd; start += batchSize)
            {
                var sums = replica.Evaluate(start, Math.Min(rowEnd, start + batchSize));
                batches.Add(new EvaluationBatch(sums.LossSum, sums.Correct, sums.Rows));
            }

            return batches.ToArray();
        });
        return new EvaluationResult(setup.Rank, batches);
    }

    public Task LeaveAsync()
    {
        _replica = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _compute?.Dispose();
        _compute = null;
        return Task.CompletedTask;
    }

    private Task<T> RunComputeAsync<T>(Func<T> work) =>
        _compute is null ? Task.FromResult(work()) : _compute.RunAsync(work);

    // The rank's micro-batches, folded into its tree nodes; on the compute thread, if any, while the grain's turn
    // waits.
    private (double[] Losses, int[] Correct, NodeSum[] Sums) Compute(
        ModelReplica replica,
        StepOrder order,
        int first,
        int end)
    {
        int microBatches = replica.Options.MicroBatches;
        var losses = new double[end - first];
        var correct = new int[end - first];
        var sums = new NodeSum[_nodes.Count];
        for (int n = 0; n < _nodes.Count; n++)
        {
            var node = _nodes[n];
            var accumulator = _accumulators[n];
            accumulator.Reset(microBatches);
            for (int m = node.Start; m < node.End; m++)
            {
                // As the trainer does: the layers write straight into a pooled leaf of the accumulator.
                var leaf = accumulator.Rent();
                var result = replica.ComputeMicroBatch(order.Epoch, order.Step, m, leaf);
                (losses[m - first], correct[m - first]) = (result.Loss, result.Correct);
                accumulator.Push(m, leaf);
            }

            sums[n] = new NodeSum(node.Start, node.End, accumulator.Finish());
        }

        return (losses, correct, sums);
    }

    // The reducer fetches each version once per silo into one vector the replica reads in place (no copy per
    // worker), and the vector says which version it holds: a worker asks only when it lacks this one. Returns
    // the fetch this call caused, if any.
    private async Task<TransferReport> PullParametersAsync(IReducerGrain reducer, ModelReplica replica, long version)
    {
        if (_parameters?.Version == version)
        {
            return default;
        }

        var pull = await reducer.GetParametersAsync(version);
        if (!ReferenceEquals(pull.Parameters, _parameters))
        {
            replica.UseParameters(pull.Parameters.Values);
            _parameters = pull.Parameters;
        }

        return pull.Fetch;
    }

    // The spec's thread count, else the silo's, else the processors shared among this silo's workers (counted
    // with the placement rule). Threads never change results, only speed.
    private async Task<int> ThreadsAsync(WorkerSetup setup)
    {
        if (setup.Spec.ThreadsPerWorker > 0)
        {
            return setup.Spec.ThreadsPerWorker;
        }

        if (options.Value.ThreadsPerWorker > 0)
        {
            return options.Value.ThreadsPerWorker;
        }

        var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        int silos = Math.Max(1, hosts.Count);
        int mine = RunPlacementDirector.SiloIndex(setup.Rank, setup.Workers, silos);
        int local = Enumerable.Range(0, setup.Workers)
            .Count(r => RunPlacementDirector.SiloIndex(r, setup.Workers, silos) == mine);
        return Math.Max(1, Environment.ProcessorCount / local);
    }

    private (WorkerSetup Setup, ModelReplica Replica, IReducerGrain Reducer) RequireJoined() =>
        _setup is not null && _replica is not null && _reducer is not null
            ? (_setup, _replica, _reducer)
            : throw new InvalidOperationException($"Worker {this.GetPrimaryKeyString()} has not joined its run.");
}
