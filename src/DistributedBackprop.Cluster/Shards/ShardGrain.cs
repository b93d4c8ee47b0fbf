using System.Diagnostics;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Cluster.Serialization;
using DistributedBackprop.Cluster.Transport;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Reduction;
using DistributedBackprop.Core.Training;
using Orleans.Concurrency;

namespace DistributedBackprop.Cluster.Shards;

/// <summary>
/// A parameter-server shard (step 4 of the protocol on <c>CoordinatorGrain</c>): collects every silo's nodes
/// for its slice, joins them into the root with the canonical tree's rule, and hands the root to Core's
/// <see cref="ParameterUpdater"/> over its slice, as the single-process trainer does over the whole vector:
/// value clipping and chunked sums of squares first, then norm clipping and the optimizer once the coordinator
/// sends the global norm.
/// </summary>
[RunPlacement]
public sealed class ShardGrain(ILocalSiloDetails silo, TensorChannel channel) : Grain, IShardGrain
{
    private ShardSetup? _setup;
    private ParameterUpdater? _updater;
    private float[] _parameters = [];
    private long _version;

    // Parameter bytes of _version, made once per version into one reused buffer and served to every silo's
    // reducer. Rewriting it in the next Apply is safe: every reducer has fetched (copied or deserialized) the
    // version before its workers finish the step that Apply completes.
    private byte[] _served = [];
    private long _servedVersion = -1;

    // Nodes received for _step, keyed by first micro-batch; the reduced root once ReduceAsync has run.
    private int _microBatches;
    private long _step = -1;
    private readonly SortedDictionary<int, (TreeNode Node, byte[] Value)> _nodes = [];
    private byte[]? _root;

    // Micro-batches the step's nodes cover so far, whether every push reported finite losses, and the step's
    // reduction once the last node is in.
    private int _covered;
    private bool _lossesFinite = true;
    private ShardReduction? _reduction;

    // True without norm clipping: the shard applies each update as soon as its last node arrives.
    private bool _appliesOnItsOwn;

    public Task<ShardLocation> SetupAsync(ShardSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var layout = new ParameterLayout(setup.Layout
            .Select(s => new ParameterSegment(s.Name, s.Offset, s.Shape, (ParameterKind)s.Kind, s.Momentum))
            .ToArray());
        if (FloatBytes.Count(setup.InitialValues) != setup.Range.Length)
        {
            throw new ArgumentException(
                $"Shard {setup.Index} owns {setup.Range.Length} parameters but got "
                + $"{FloatBytes.Count(setup.InitialValues)} initial values.");
        }

        _setup = setup;
        var options = RunSpecMapping.ToTrainingOptions(setup.Spec, threads: 1);
        _updater = new ParameterUpdater(layout, options, setup.StepsPerEpoch, setup.Range.Start, setup.Range.End);
        _microBatches = options.MicroBatches;
        _appliesOnItsOwn = options.ClipNorm <= 0;
        _parameters = FloatBytes.AsFloats(setup.InitialValues).ToArray();
        _version = 0;
        _served = new byte[setup.Range.Length * sizeof(float)];
        _servedVersion = -1;
        _step = -1;
        _nodes.Clear();
        _covered = 0;
        _root = null;
        _reduction = null;
        return GetLocationAsync();
    }

    public Task<ShardLocation> GetLocationAsync() =>
        Task.FromResult(new ShardLocation(silo.SiloAddress.ToParsableString(), channel.Endpoint ?? ""));

    public Task<Immutable<byte[]>> GetParametersAsync(long version)
    {
        var setup = RequireSetup();
        if (version != _version)
        {
            throw new InvalidOperationException(
                $"Shard {setup.Index} holds parameter version {_version}, not the requested {version}.");
        }

        if (_servedVersion != _version)
        {
            _parameters.CopyTo(FloatBytes.AsFloats(_served));
            _servedVersion = _version;
        }

        return Task.FromResult(_served.AsImmutable());
    }

    public Task<ShardPushReply> PushAsync(ShardContribution contribution)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        var setup = RequireSetup();
        if (contribution.GlobalStep != _step)
        {
            _step = contribution.GlobalStep;
            _nodes.Clear();
            _covered = 0;
            _lossesFinite = true;
            _root = null;
            _reduction = null;
        }

        foreach (var node in contribution.Nodes)
        {
            if (FloatBytes.Count(node.Values) != setup.Range.Length)
            {
                throw new ArgumentException(
                    $"Shard {setup.Index} got node [{node.Start}, {node.End}) from {contribution.Silo} with "
                    + $"{FloatBytes.Count(node.Values)} values; its slice has {setup.Range.Length}.");
            }

            if (!_nodes.TryAdd(node.Start, (new TreeNode(node.Start, node.End), node.Values)))
            {
                throw new InvalidOperationException(
                    $"Shard {setup.Index} got micro-batches starting at {node.Start} twice in step {_step}.");
            }

            _covered += node.End - node.Start;
        }

        _lossesFinite &= contribution.LossesFinite;
        if (_covered < _microBatches)
        {
            return Task.FromResult(ShardPushReply.Stored);
        }

        // The last nodes are in: reduce now rather than on a later call from the coordinator, and without
        // norm clipping nothing global stands between the root and the update, so apply it too. A non-finite
        // slice or loss waits for the coordinator, which fails the step; a step that fails on another shard's
        // non-finite slice still leaves this one an update ahead, so a failed run's shards may differ in version.
        var reduction = Reduce(_step);
        if (_appliesOnItsOwn && _lossesFinite && Array.TrueForAll(reduction.ChunkSumsOfSquares, double.IsFinite))
        {
            // Without norm clipping the updater ignores the norm.
            double seconds = Apply(_step, double.NaN);
            _reduction = reduction with { Applied = true, ApplySeconds = seconds };
            return Task.FromResult(new ShardPushReply(_reduction, contribution.WantParameters ? _parameters : null));
        }

        return Task.FromResult(new ShardPushReply(reduction, null));
    }

    public Task<ShardReduction> ReduceAsync(long globalStep) =>
        Task.FromResult(globalStep == _step && _reduction is not null ? _reduction : Reduce(globalStep));

    public Task<double> ApplyAsync(long globalStep, double globalNorm)
    {
        var setup = RequireSetup();
        if (globalStep != _step || _root is null)
        {
            throw new InvalidOperationException(
                $"Shard {setup.Index} was asked to apply step {globalStep} before reducing it, or after applying "
                + "it on its own.");
        }

        return Task.FromResult(Apply(globalStep, globalNorm));
    }

    // Joins the step's nodes into the root (the same joins, in the same tree, as one process folding
    // micro-batches 0..M-1) and prepares it: value clipping and the chunk sums of squares.
    private ShardReduction Reduce(long globalStep)
    {
        var setup = RequireSetup();
        long started = Stopwatch.GetTimestamp();
        if (globalStep != _step)
        {
            throw new InvalidOperationException(
                $"Shard {setup.Index} was asked to reduce step {globalStep} but holds nodes of step {_step}.");
        }

        MicroBatchTree.Combine(_nodes, _microBatches, static (left, right) =>
        {
            MicroBatchTree.AddInPlace(FloatBytes.AsFloats(left), FloatBytes.AsFloats(right));
            return left;
        });
        if (_nodes.Count != 1 || _nodes.First().Value.Node != new TreeNode(0, _microBatches))
        {
            string held = string.Join(", ", _nodes.Values.Select(n => $"[{n.Node.Start}, {n.Node.End})"));
            throw new InvalidOperationException(
                $"Shard {setup.Index} cannot reduce step {globalStep}: its nodes {held} do not cover micro-batches "
                + $"[0, {_microBatches}).");
        }

        _root = _nodes.First().Value.Value;
        _nodes.Clear();
        var sums = _updater!.PrepareGradient(FloatBytes.AsFloats(_root));
        _reduction = new ShardReduction(sums, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return _reduction;
    }

    // Clips by the global norm (when configured) and runs the optimizer: version + 1. Returns the seconds taken.
    private double Apply(long globalStep, double globalNorm)
    {
        long started = Stopwatch.GetTimestamp();
        _updater!.Apply(_parameters, FloatBytes.AsFloats(_root!), globalStep, globalNorm);
        _root = null;
        _version++;
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    public Task LeaveAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private ShardSetup RequireSetup() =>
        _setup ?? throw new InvalidOperationException($"Shard {this.GetPrimaryKeyString()} was not set up.");
}
