using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Serialization;
using DistributedBackprop.Cluster.Transport;

namespace DistributedBackprop.Cluster.Tests.Transport;

public sealed class ShardMailboxTests
{
    private const int Slice = 5;

    [Fact]
    public void TakePushes_TwoDeposits_ReturnsThemInArrivalOrderByReferenceThenNothing()
    {
        var mailbox = new ShardMailbox(Slice);
        var first = Push(3, "silo-b", new NodeSlice(2, 3, new byte[Slice * sizeof(float)]));
        var second = Push(3, "silo-c", new NodeSlice(3, 4, new byte[Slice * sizeof(float)]));

        mailbox.Deposit(first);
        mailbox.Deposit(second);
        var taken = mailbox.TakePushes().ToArray();

        Assert.Equal([first, second], taken);
        Assert.Same(first.Nodes[0].Values, taken[0].Nodes[0].Values);
        Assert.Empty(mailbox.TakePushes());
    }

    [Fact]
    public void Deposit_NodeOfWrongLength_ThrowsNamingNodeAndLengthsAndKeepsNothing()
    {
        var mailbox = new ShardMailbox(Slice);
        var push = Push(8, "silo-b", new NodeSlice(0, 2, new byte[(Slice + 1) * sizeof(float)]));

        var error = Assert.Throws<ArgumentException>(() => mailbox.Deposit(push));

        Assert.Contains("node [0, 2)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"has {Slice + 1} values", error.Message, StringComparison.Ordinal);
        Assert.Contains($"slice has {Slice}", error.Message, StringComparison.Ordinal);
        Assert.Empty(mailbox.TakePushes());
    }

    [Fact]
    public void Published_AfterNextVersion_EarlierBytesStayIntactAndOnlyLatestIsServed()
    {
        var mailbox = new ShardMailbox(Slice);
        float[] v4 = [1, 2, 3, 4, 5];
        float[] v5 = [6, 7, 8, 9, 10];

        Assert.Null(mailbox.Published(4));
        var served4 = mailbox.Publish(4, v4);
        Assert.Same(served4, mailbox.Published(4));
        var served5 = mailbox.Publish(5, v5);

        Assert.NotSame(served4, served5);
        Assert.Equal(v4, FloatBytes.AsFloats(served4).ToArray());
        Assert.Equal(v5, FloatBytes.AsFloats(mailbox.Published(5)!).ToArray());
        Assert.Null(mailbox.Published(4));
        Assert.Null(mailbox.Published(6));
    }

    [Fact]
    public void LocalShards_Unregister_OnlyRemovesTheSameMailbox()
    {
        var shards = new LocalShards();
        var old = shards.Register("run", 1, 3, Slice);
        var current = shards.Register("run", 1, 3, Slice);

        shards.Unregister("run", 1, 3, old);

        Assert.Same(current, shards.Find("run", 1, 3));
        Assert.Null(shards.Find("run", 0, 3));
        shards.Unregister("run", 1, 3, current);
        Assert.Null(shards.Find("run", 1, 3));
    }

    private static ShardContribution Push(long step, string silo, params NodeSlice[] nodes) =>
        new(step, silo, nodes, LossesFinite: true);
}
