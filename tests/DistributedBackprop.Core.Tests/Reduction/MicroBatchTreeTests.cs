using DistributedBackprop.Core.Reduction;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Reduction;

public sealed class MicroBatchTreeTests
{
    [Theory]
    [InlineData(8, 4)]
    [InlineData(6, 4)]
    [InlineData(7, 4)]
    [InlineData(5, 4)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    public void Split_Root_LeftIsLargestPowerOfTwoBelowCount(int count, int expectedLeft)
    {
        var (left, right) = MicroBatchTree.Split(new TreeNode(0, count));

        Assert.Equal(new TreeNode(0, expectedLeft), left);
        Assert.Equal(new TreeNode(expectedLeft, count), right);
    }

    [Fact]
    public void Decompose_ThreeWorkersOverEight_GivesMaximalNodes()
    {
        Assert.Equal([new(0, 2), new(2, 3)], MicroBatchTree.Decompose(0, 3, 8));
        Assert.Equal([new(3, 4), new(4, 6)], MicroBatchTree.Decompose(3, 6, 8));
        Assert.Equal([new(6, 8)], MicroBatchTree.Decompose(6, 8, 8));
        Assert.Equal([new(0, 8)], MicroBatchTree.Decompose(0, 8, 8));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(13)]
    public void Accumulator_MatchesRecursiveTreeSum_BitForBit(int count)
    {
        var leaves = RandomLeaves(count, 33, seed: (ulong)count);
        var accumulator = new MicroBatchAccumulator(33);
        accumulator.Reset(count);
        for (int i = 0; i < count; i++)
        {
            var buffer = accumulator.Rent();
            leaves[i].CopyTo(buffer, 0);
            accumulator.Push(i, buffer);
        }

        float[] expected = TreeSum(new TreeNode(0, count), leaves);

        Assert.Equal(expected, accumulator.Finish());
    }

    [Theory]
    [InlineData(8, 1)]
    [InlineData(8, 2)]
    [InlineData(8, 3)]
    [InlineData(8, 4)]
    [InlineData(8, 8)]
    [InlineData(6, 4)]
    public void Combine_AnySplitAmongWorkers_EqualsSingleProcessFold(int count, int workers)
    {
        var leaves = RandomLeaves(count, 17, seed: 9);
        var nodes = new SortedDictionary<int, (TreeNode Node, float[] Value)>();
        for (int rank = 0; rank < workers; rank++)
        {
            int start = rank * count / workers;
            int end = (rank + 1) * count / workers;
            foreach (var node in MicroBatchTree.Decompose(start, end, count))
            {
                nodes[node.Start] = (node, TreeSum(node, leaves));
            }
        }

        MicroBatchTree.Combine(nodes, count, (l, r) =>
        {
            MicroBatchTree.AddInPlace(l, r);
            return l;
        });

        var root = Assert.Single(nodes).Value;
        Assert.Equal(new TreeNode(0, count), root.Node);
        Assert.Equal(TreeSum(new TreeNode(0, count), leaves), root.Value);
    }

    [Fact]
    public void Accumulator_SumsAsATreeNotALeftFold()
    {
        // 1e8 + 1 rounds to 1e8 in float, so association decides: the tree gives (1e8 + 1) + (-1e8 + 1) = 0,
        // a left fold gives ((1e8 + 1) - 1e8) + 1 = 1.
        float[][] leaves = [[1e8f], [1f], [-1e8f], [1f]];
        float leftFold = ((leaves[0][0] + leaves[1][0]) + leaves[2][0]) + leaves[3][0];

        var accumulator = new MicroBatchAccumulator(1);
        accumulator.Reset(4);
        for (int i = 0; i < 4; i++)
        {
            accumulator.Push(i, (float[])leaves[i].Clone());
        }

        Assert.Equal(0f, accumulator.Finish()[0]);
        Assert.Equal(1f, leftFold);
    }

    // Independent recursive definition of the canonical tree: the left child is the largest power of two below
    // the size.
    private static float[] TreeSum(TreeNode node, float[][] leaves)
    {
        if (node.Count == 1)
        {
            return (float[])leaves[node.Start].Clone();
        }

        int half = 1;
        while (half * 2 < node.Count)
        {
            half *= 2;
        }

        var left = TreeSum(new TreeNode(node.Start, node.Start + half), leaves);
        var right = TreeSum(new TreeNode(node.Start + half, node.End), leaves);
        for (int i = 0; i < left.Length; i++)
        {
            left[i] += right[i];
        }

        return left;
    }

    private static float[][] RandomLeaves(int count, int length, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, length).Select(_ => (float)(rng.NextGaussian() * 1e3)).ToArray())
            .ToArray();
    }
}
