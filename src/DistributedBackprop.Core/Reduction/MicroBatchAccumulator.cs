namespace DistributedBackprop.Core.Reduction;

/// <summary>
/// Folds micro-batch gradients, produced in index order, into the canonical tree of
/// <see cref="MicroBatchTree"/> with O(log M) live buffers (a binary-counter stack).
/// </summary>
/// <remarks>
/// Feeding leaves start..end-1 in order and calling <see cref="Finish"/> yields the sum of the node
/// [start, end) exactly as the tree defines it, provided [start, end) is a tree node; for the whole range
/// [0, M) it is the root. Buffers are pooled across steps.
/// </remarks>
public sealed class MicroBatchAccumulator
{
    private readonly int _length;
    private readonly Stack<float[]> _free = new();
    private readonly List<(TreeNode Node, float[] Sum)> _stack = [];
    private int _count;

    public MicroBatchAccumulator(int length)
    {
        _length = length;
    }

    /// <summary>A buffer to compute the next leaf's gradient into; hand it back with <see cref="Push"/>.</summary>
    public float[] Rent() => _free.Count > 0 ? _free.Pop() : new float[_length];

    /// <summary>Starts a fold over the tree of <paramref name="count"/> micro-batches.</summary>
    public void Reset(int count)
    {
        foreach (var (_, sum) in _stack)
        {
            _free.Push(sum);
        }

        _stack.Clear();
        _count = count;
    }

    /// <summary>Adds leaf <paramref name="index"/>; leaves must come in ascending order.</summary>
    public void Push(int index, float[] gradient)
    {
        _stack.Add((new TreeNode(index, index + 1), gradient));

        // Join the top two while they are siblings: the left is a full power-of-two block, the right equal-sized.
        while (_stack.Count >= 2)
        {
            var (leftNode, left) = _stack[^2];
            var (rightNode, right) = _stack[^1];
            if (leftNode.Count != rightNode.Count || !IsLeftChildOfSize(leftNode))
            {
                break;
            }

            MicroBatchTree.AddInPlace(left, right);
            _free.Push(right);
            _stack.RemoveAt(_stack.Count - 1);
            _stack[^1] = (new TreeNode(leftNode.Start, rightNode.End), left);
        }
    }

    /// <summary>Joins what remains, right to left, and returns the sum (owned by the accumulator until
    /// <see cref="Reset"/>).</summary>
    public float[] Finish()
    {
        if (_stack.Count == 0)
        {
            throw new InvalidOperationException("No micro-batch gradient was pushed.");
        }

        while (_stack.Count >= 2)
        {
            var (leftNode, left) = _stack[^2];
            var (rightNode, right) = _stack[^1];
            MicroBatchTree.AddInPlace(left, right);
            _free.Push(right);
            _stack.RemoveAt(_stack.Count - 1);
            _stack[^1] = (new TreeNode(leftNode.Start, rightNode.End), left);
        }

        return _stack[0].Sum;
    }

    // A power-of-two block aligned to its size is the left child of a node twice its size only if that
    // parent fits inside [0, count); otherwise the block is joined later, in Finish.
    private bool IsLeftChildOfSize(TreeNode left)
    {
        int size = left.Count;
        return (size & (size - 1)) == 0 && left.Start % (2 * size) == 0 && left.Start + 2 * size <= _count;
    }
}
