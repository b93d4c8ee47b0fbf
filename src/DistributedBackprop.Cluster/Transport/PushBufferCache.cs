using DistributedBackprop.Core.Reduction;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// The byte arrays one incoming connection reads pushes into, reused from step to step instead of a new large
/// array per node and step. A push's arrays are handed to the shard by reference and the shard joins into them
/// in place, so an array may only be reused once the shard is done with it: the step protocol (see
/// <c>CoordinatorGrain</c>) has every shard reduce and apply step s before any push of step s + 1 is sent, so an
/// array is reused only for a strictly later step of the same run, shard and node. Anything else (a repeated or
/// older step, which the shard rejects anyway) gets a fresh array. Used by one connection's reader only.
/// </summary>
internal sealed class PushBufferCache
{
    // Concurrent runs whose buffers are kept; the least recently pushed run's go first.
    private const int MaxRuns = 4;

    private readonly Dictionary<string, Dictionary<(int Shard, TreeNode Node), (byte[] Buffer, long Step)>> _runs =
        [];
    private readonly List<string> _recent = [];

    /// <summary>An array of <paramref name="length"/> bytes for a node of a push, not used by any shard.</summary>
    public byte[] Take(string runId, int shard, TreeNode node, long step, int length)
    {
        var buffers = Run(runId);
        if (buffers.TryGetValue((shard, node), out var held) && held.Step < step && held.Buffer.Length == length)
        {
            buffers[(shard, node)] = (held.Buffer, step);
            return held.Buffer;
        }

        var buffer = GC.AllocateUninitializedArray<byte>(length);
        if (!buffers.TryGetValue((shard, node), out held) || held.Step < step)
        {
            buffers[(shard, node)] = (buffer, step);
        }

        return buffer;
    }

    private Dictionary<(int Shard, TreeNode Node), (byte[] Buffer, long Step)> Run(string runId)
    {
        if (_recent.Count > 0 && _recent[^1] == runId)
        {
            return _runs[runId];
        }

        _recent.Remove(runId);
        _recent.Add(runId);
        if (!_runs.TryGetValue(runId, out var buffers))
        {
            buffers = [];
            _runs[runId] = buffers;
        }

        if (_recent.Count > MaxRuns)
        {
            _runs.Remove(_recent[0]);
            _recent.RemoveAt(0);
        }

        return buffers;
    }
}
