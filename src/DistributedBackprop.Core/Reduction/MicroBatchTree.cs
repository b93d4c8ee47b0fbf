using System.Numerics.Tensors;

namespace DistributedBackprop.Core.Reduction;

/// <summary>A node of the canonical reduction tree: the sum of micro-batches [Start, End).</summary>
public readonly record struct TreeNode(int Start, int End)
{
    public int Count => End - Start;
}

/// <summary>
/// The one order in which a step's micro-batch gradients are summed, everywhere.
/// </summary>
/// <remarks>
/// Float addition is not associative, so "sum the micro-batches" has to name a tree. The tree over
/// micro-batches [0, M) is fixed by M alone: a node [s, e) with more than one leaf splits at s + p, where p
/// is the largest power of two below e - s, and a parent is always left + right. The single-process trainer
/// folds the leaves into this tree as they are produced; in the cluster, a worker owning micro-batches
/// [a, b) sends the maximal tree nodes inside [a, b) (see <see cref="Decompose"/>), and whoever receives them
/// joins siblings into parents. Any split of [0, M) among any number of workers therefore yields the same
/// bits as one process.
/// </remarks>
public static class MicroBatchTree
{
    /// <summary>The children of a node with at least two leaves.</summary>
    public static (TreeNode Left, TreeNode Right) Split(TreeNode node)
    {
        if (node.Count < 2)
        {
            throw new ArgumentException($"Node [{node.Start}, {node.End}) is a leaf.", nameof(node));
        }

        int half = 1 << (31 - int.LeadingZeroCount(node.Count - 1));
        return (new TreeNode(node.Start, node.Start + half), new TreeNode(node.Start + half, node.End));
    }

    /// <summary>The maximal nodes of the tree over [0, count) inside [start, end), in order.</summary>
    public static List<TreeNode> Decompose(int start, int end, int count)
    {
        if (start < 0 || end > count || start > end)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {end}) is not inside [0, {count}).");
        }

        var nodes = new List<TreeNode>();
        if (start < end)
        {
            Collect(new TreeNode(0, count), start, end, nodes);
        }

        return nodes;
    }

    /// <summary>The parent of <paramref name="node"/> in the tree over [0, count), or null for the root.</summary>
    public static TreeNode? Parent(TreeNode node, int count)
    {
        var current = new TreeNode(0, count);
        if (current == node)
        {
            return null;
        }

        while (current.Count > 1)
        {
            var (left, right) = Split(current);
            if (left == node || right == node)
            {
                return current;
            }

            current = node.Start < right.Start ? left : right;
        }

        throw new ArgumentException($"[{node.Start}, {node.End}) is not a node of the tree over [0, {count}).");
    }

    /// <summary>
    /// Joins sibling nodes into parents until no two siblings remain, summing their vectors as left + right.
    /// Nodes are keyed by their range; the result holds the remaining maximal nodes.
    /// </summary>
    /// <param name="sum">Adds right into left in place and returns left, e.g. <see cref="AddInPlace"/>.</param>
    public static void Combine<T>(SortedDictionary<int, (TreeNode Node, T Value)> nodes, int count, Func<T, T, T> sum)
    {
        bool merged = true;
        while (merged)
        {
            merged = false;
            foreach (var (start, entry) in nodes)
            {
                var parent = Parent(entry.Node, count);
                if (parent is null || parent.Value.Start != start)
                {
                    continue;
                }

                var (_, right) = Split(parent.Value);
                if (nodes.TryGetValue(right.Start, out var sibling) && sibling.Node == right)
                {
                    nodes.Remove(right.Start);
                    nodes[start] = (parent.Value, sum(entry.Value, sibling.Value));
                    merged = true;
                    break;
                }
            }
        }
    }

    /// <summary>left[i] += right[i]; the elementwise add every tree join uses.</summary>
    public static void AddInPlace(Span<float> left, ReadOnlySpan<float> right) =>
        TensorPrimitives.Add(left, right, left);

    private static void Collect(TreeNode node, int start, int end, List<TreeNode> nodes)
    {
        if (node.End <= start || node.Start >= end)
        {
            return;
        }

        if (node.Start >= start && node.End <= end)
        {
            nodes.Add(node);
            return;
        }

        var (left, right) = Split(node);
        Collect(left, start, end, nodes);
        Collect(right, start, end, nodes);
    }
}
