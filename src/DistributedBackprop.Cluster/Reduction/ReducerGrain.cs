using System.Diagnostics;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Serialization;
using DistributedBackprop.Cluster.Shards;
using DistributedBackprop.Cluster.Telemetry;
using DistributedBackprop.Cluster.Transport;
using DistributedBackprop.Core.Reduction;

namespace DistributedBackprop.Cluster.Reduction;

/// <summary>
/// One silo's reducer in a run (steps 2-4 of the protocol on <c>CoordinatorGrain</c>). Not reentrant: a
/// contribution that completes the silo's set runs the join and the pushes while the other calls wait, and a
/// parameter fetch happens once per version however many local workers ask.
/// </summary>
[RunPlacement]
public sealed class ReducerGrain(TrainingTelemetry telemetry, TensorChannel channel) : Grain, IReducerGrain
{
    private ReducerSetup? _setup;
    private IShardGrain[] _shards = [];
    private string _silo = "";

    // The step being collected and the local workers' contributions to it, by rank.
    private long _step = -1;
    private readonly Dictionary<int, WorkerContribution> _contributions = [];

    // The parameter vector local workers' replicas read in place and never write; _sliceVersions[j] is the
    // version of shard j's range in it, which a local shard hands over in its push reply and the others are
    // fetched for. _fetchTargets[j] is shard j's range as bytes, which the tensor channel reads a slice into.
    private SiloParameters _shared = new([]);
    private float[] _parameters = [];
    private Memory<byte>[] _fetchTargets = [];
    private long[] _sliceVersions = [];

    // Push payloads, by shard and node, reused every step instead of a new large array per slice and step.
    // Reuse is safe because a step's pushes are used up before the next step pushes: a remote shard's copy was
    // serialized or written to the tensor channel's socket before it answered, and a local shard (which holds
    // the reference and joins into it in place) has reduced and applied the step before the coordinator starts
    // the next one.
    private byte[][][] _slices = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _silo = RunGrainKey.Parse(this.GetPrimaryKeyString()).Silo;
        return Task.CompletedTask;
    }

    public Task SetupAsync(ReducerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _setup = setup;
        _shards = new IShardGrain[setup.Shards.Length];
        for (int j = 0; j < _shards.Length; j++)
        {
            _shards[j] = GrainFactory.GetGrain<IShardGrain>(RunGrainKey.Shard(setup.RunId, j, _shards.Length));
        }

        _parameters = new float[setup.ParameterCount];
        _shared = new SiloParameters(_parameters);
        _fetchTargets = setup.Shards.Select(r => FloatMemory.Bytes(_parameters, r.Start, r.Length)).ToArray();
        _slices = new byte[setup.Shards.Length][][];
        _sliceVersions = new long[setup.Shards.Length];
        Array.Fill(_sliceVersions, -1);
        _step = -1;
        _contributions.Clear();
        return Task.CompletedTask;
    }

    public async Task<ParameterPull> GetParametersAsync(long version)
    {
        var setup = RequireSetup();
        var stale = Enumerable.Range(0, _shards.Length).Where(j => _sliceVersions[j] != version).ToArray();
        if (stale.Length == 0)
        {
            _shared.SetVersion(version);
            return new ParameterPull(_shared, default);
        }

        long startedUtc = DateTime.UtcNow.Ticks;
        long started = Stopwatch.GetTimestamp();
        var done = await Task.WhenAll(stale.Select(j => FetchAsync(setup, j, version)));
        long bytes = 0;
        long channelBytes = 0;
        foreach (int j in stale)
        {
            long slice = _fetchTargets[j].Length;
            bytes += CrossesSilos(setup, j) ? slice : 0;
            channelBytes += UsesChannel(setup, j) ? slice : 0;
            _sliceVersions[j] = version;
        }

        _shared.SetVersion(version);
        var fetch = new TransferReport(
            bytes, TransferSeconds(setup, started, stale, done), stale.Length, channelBytes, startedUtc);
        return new ParameterPull(_shared, fetch);
    }

    public async Task<ContributionReply> ContributeAsync(WorkerContribution contribution)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        var setup = RequireSetup();
        if (contribution.GlobalStep != _step)
        {
            if (_contributions.Count > 0)
            {
                throw new InvalidOperationException(
                    $"Reducer on {_silo} got step {contribution.GlobalStep} from rank {contribution.Rank} while "
                    + $"step {_step} still lacks {setup.Ranks.Length - _contributions.Count} local worker(s).");
            }

            _step = contribution.GlobalStep;
        }

        _contributions[contribution.Rank] = contribution;
        if (_contributions.Count < setup.Ranks.Length)
        {
            return ContributionReply.Stored;
        }

        using var span = TrainingTelemetry.StartSpan(TrainingTelemetry.SiloReduceSpan, setup.RunId, _step);
        var nodes = JoinLocalNodes(setup.MicroBatches);
        bool lossesFinite = _contributions.Values.All(c => c.LossesFinite);
        _contributions.Clear();

        // One message per shard leaves the silo, holding that shard's slice of every remaining node. The tensor
        // channel writes the slices straight from the node sums, and goes first; a grain call gets arrays of its
        // own, whose copies would otherwise delay the channel's sends.
        long startedUtc = DateTime.UtcNow.Ticks;
        long started = Stopwatch.GetTimestamp();
        var pushes = new Task<(ShardPushReply Reply, long Done)>[_shards.Length];
        long sent = 0;
        long bytes = 0;
        long channelBytes = 0;
        for (int j = 0; j < pushes.Length; j++)
        {
            long payload = (long)nodes.Count * setup.Shards[j].Length * sizeof(float);
            sent += payload;
            bytes += CrossesSilos(setup, j) ? payload : 0;
            if (UsesChannel(setup, j))
            {
                channelBytes += payload;
                pushes[j] = ChannelPushAsync(setup, j, ViewNodes(nodes, setup.Shards[j], lossesFinite));
            }
        }

        for (int j = 0; j < pushes.Length; j++)
        {
            pushes[j] ??= GrainPushAsync(j, new ShardContribution(
                _step, _silo, SliceNodes(nodes, setup.Shards[j], j), lossesFinite, !CrossesSilos(setup, j)));
        }

        var replies = await Task.WhenAll(pushes);
        _shared.SetVersion(-1);
        var reductions = new ShardReduction?[replies.Length];
        for (int j = 0; j < replies.Length; j++)
        {
            reductions[j] = replies[j].Reply.Reduction;

            // A local shard that applied the step hands its new slice over now: the next step's pull needs
            // no round trip to it. Every local worker has contributed, so none is reading the vector.
            if (replies[j].Reply.Parameters is { } slice)
            {
                slice.AsSpan().CopyTo(_parameters.AsSpan(setup.Shards[j].Start, setup.Shards[j].Length));
                _sliceVersions[j] = _step + 1;
            }
        }

        // When every shard handed its slice over, the local workers start the next step without asking.
        if (_sliceVersions.All(v => v == _step + 1))
        {
            _shared.SetVersion(_step + 1);
        }

        telemetry.GradientSent(setup.RunId, sent);
        var shards = Enumerable.Range(0, replies.Length).ToArray();
        var report = new TransferReport(
            bytes, TransferSeconds(setup, started, shards, replies.Select(r => r.Done).ToArray()), pushes.Length,
            channelBytes, startedUtc);
        return new ContributionReply(report, reductions);
    }

    public Task LeaveAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    // Joins sibling nodes across local workers with the canonical tree's rule (left += right), so the result
    // is the same whichever silo the ranks were placed on.
    private List<(TreeNode Node, float[] Sum)> JoinLocalNodes(int microBatches)
    {
        var nodes = new SortedDictionary<int, (TreeNode Node, float[] Value)>();
        foreach (var contribution in _contributions.Values)
        {
            foreach (var node in contribution.Nodes)
            {
                nodes.Add(node.Start, (new TreeNode(node.Start, node.End), node.Sum));
            }
        }

        MicroBatchTree.Combine(nodes, microBatches, static (left, right) =>
        {
            MicroBatchTree.AddInPlace(left, right);
            return left;
        });
        return nodes.Values.Select(v => (v.Node, v.Value)).ToList();
    }

    // The nodes' slices for the tensor channel, as views of the sums: nothing writes the sums until every push
    // has answered, and the channel has copied a push into its socket before it can answer.
    private TensorPush ViewNodes(List<(TreeNode Node, float[] Sum)> nodes, ShardRange range, bool lossesFinite) =>
        new(
            _step,
            lossesFinite,
            nodes.Select(n => n.Node).ToArray(),
            nodes.Select(n => (ReadOnlyMemory<byte>)FloatMemory.Bytes(n.Sum, range.Start, range.Length)).ToArray());

    private NodeSlice[] SliceNodes(List<(TreeNode Node, float[] Sum)> nodes, ShardRange range, int shard)
    {
        if (_slices[shard] is null || _slices[shard].Length != nodes.Count)
        {
            _slices[shard] = new byte[nodes.Count][];
        }

        var slices = new NodeSlice[nodes.Count];
        for (int n = 0; n < nodes.Count; n++)
        {
            var buffer = _slices[shard][n] ??= new byte[range.Length * sizeof(float)];
            nodes[n].Sum.AsSpan(range.Start, range.Length).CopyTo(FloatBytes.AsFloats(buffer));
            slices[n] = new NodeSlice(nodes[n].Node.Start, nodes[n].Node.End, buffer);
        }

        return slices;
    }

    // Done is the Stopwatch timestamp at which the reply was in on this silo.
    private async Task<(ShardPushReply Reply, long Done)> GrainPushAsync(int shard, ShardContribution push)
    {
        var reply = await _shards[shard].PushAsync(push);
        return (reply, Stopwatch.GetTimestamp());
    }

    // The channel's acknowledgement carries no reduction: the coordinator asks that shard for it.
    private async Task<(ShardPushReply Reply, long Done)> ChannelPushAsync(
        ReducerSetup setup,
        int shard,
        TensorPush push)
    {
        long done = await channel.PushAsync(setup.ShardEndpoints[shard], setup.RunId, shard, _shards.Length, push);
        return (ShardPushReply.Stored, done);
    }

    // Over the channel the slice lands in _parameters directly; through Orleans it arrives as an array first.
    // Returns the Stopwatch timestamp at which the slice was in.
    private async Task<long> FetchAsync(ReducerSetup setup, int shard, long version)
    {
        if (UsesChannel(setup, shard))
        {
            return await channel.FetchAsync(
                setup.ShardEndpoints[shard], setup.RunId, shard, _shards.Length, version, _fetchTargets[shard]);
        }

        var slice = await _shards[shard].GetParametersAsync(version);
        long done = Stopwatch.GetTimestamp();
        slice.Value.AsSpan().CopyTo(_fetchTargets[shard].Span);
        return done;
    }

    // A transfer lasts from the first send until its last payload was in on this silo: read off the socket by
    // the channel, or delivered by Orleans. When payloads crossed silos only theirs count (a local shard's
    // reply passes by reference, and a push that completes the step also carries the shard's optimizer work);
    // the hop from the channel's thread back to this grain's turn is not transfer but scheduling.
    private double TransferSeconds(ReducerSetup setup, long started, int[] shards, long[] done)
    {
        long end = started;
        bool crossed = shards.Any(j => CrossesSilos(setup, j));
        for (int k = 0; k < shards.Length; k++)
        {
            if (!crossed || CrossesSilos(setup, shards[k]))
            {
                end = Math.Max(end, done[k]);
            }
        }

        return Stopwatch.GetElapsedTime(started, end).TotalSeconds;
    }

    // Payloads to and from a shard on this silo pass by reference; only the others travel over the network.
    private bool CrossesSilos(ReducerSetup setup, int shard) => setup.ShardSilos[shard] != _silo;

    // The tensor channel carries a transfer when it crosses silos and both silos' channels are on.
    private bool UsesChannel(ReducerSetup setup, int shard) =>
        CrossesSilos(setup, shard) && channel.IsEnabled && setup.ShardEndpoints[shard].Length > 0;

    private ReducerSetup RequireSetup() =>
        _setup ?? throw new InvalidOperationException($"Reducer {this.GetPrimaryKeyString()} was not set up.");
}
