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
public sealed class ShardGrain(ILocalSiloDetails silo, TensorChannel channel, LocalShards localShards)
    : Grain, IShardGrain
{
    private ShardSetup? _setup;
    private ParameterUpdater? _updater;
    private float[] _parameters = [];
    private long _version;

    // Where the tensor channel leaves pushes and reads published versions (see ShardMailbox); the parameter
    // bytes every silo's reducer fetches are published there too, once per version.
    private ShardMailbox? _mailbox;

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
        var key = RunGrainKey.Parse(this.GetPrimaryKeyString());
        LeaveMailbox();
        _mailbox = localShards.Register(key.RunId, key.Index, key.Count, setup.Range.Length);
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

        var bytes = _mailbox!.Published(_version) ?? _mailbox.Publish(_version, _parameters);
        return Task.FromResult(bytes.AsImmutable());
    }

    public Task<ShardPushReply> PushAsync(ShardContribution contribution)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        RequireSetup();
        TakeMailedPushes();
        Store(contribution);
        if (_covered < _microBatches)
        {
            return Task.FromResult(ShardPushReply.Stored);
        }

        var reduction = Complete();
        return Task.FromResult(new ShardPushReply(
            reduction, reduction.Applied && contribution.WantParameters ? _parameters : null));
    }

    public Task<ShardReduction> ReduceAsync(long globalStep)
    {
        RequireSetup();
        TakeMailedPushes();
        return Task.FromResult(globalStep == _step && _reduction is not null ? _reduction : Complete(globalStep));
    }

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

    // Pushes the tensor channel left in the mailbox since this shard's last turn, in arrival order.
    private void TakeMailedPushes()
    {
        foreach (var push in _mailbox!.TakePushes())
        {
            Store(push);
        }
    }

    private void Store(ShardContribution contribution)
    {
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
    }

    // The last nodes are in: reduce now rather than on a later call from the coordinator, and without norm
    // clipping nothing global stands between the root and the update, so apply it too. A non-finite slice or
    // loss waits for the coordinator, which fails the step; a step that fails on another shard's non-finite
    // slice still leaves this one an update ahead, so a failed run's shards may differ in version.
    private ShardReduction Complete(long? globalStep = null)
    {
        var reduction = Reduce(globalStep ?? _step);
        if (!_appliesOnItsOwn || !_lossesFinite || !Array.TrueForAll(reduction.ChunkSumsOfSquares, double.IsFinite))
        {
            return reduction;
        }

        // Without norm clipping the updater ignores the norm.
        double seconds = Apply(_step, double.NaN);
        _reduction = reduction with { Applied = true, ApplySeconds = seconds };
        return _reduction;
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

        // Reducers on other silos will fetch this version over the channel: have it ready for them.
        if (_mailbox!.ServesChannel)
        {
            _mailbox.Publish(_version, _parameters);
        }

        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    public Task LeaveAsync()
    {
        LeaveMailbox();
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        LeaveMailbox();
        return Task.CompletedTask;
    }

    private void LeaveMailbox()
    {
        if (_mailbox is not null)
        {
            var key = RunGrainKey.Parse(this.GetPrimaryKeyString());
            localShards.Unregister(key.RunId, key.Index, key.Count, _mailbox);
            _mailbox = null;
        }
    }

    private ShardSetup RequireSetup() =>
        _setup ?? throw new InvalidOperationException($"Shard {this.GetPrimaryKeyString()} was not set up.");
}
