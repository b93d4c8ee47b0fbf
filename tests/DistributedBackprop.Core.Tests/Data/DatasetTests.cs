using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Data;

public sealed class DatasetTests
{
    // 5 samples of shape (2, 3): sample r holds r·10 + [0..6), label r mod 3.
    private static Dataset Small()
    {
        var features = new float[5 * 6];
        var labels = new int[5];
        for (int r = 0; r < 5; r++)
        {
            for (int j = 0; j < 6; j++)
            {
                features[r * 6 + j] = r * 10 + j;
            }

            labels[r] = r % 3;
        }

        return new Dataset("small", features, labels, [2, 3], classCount: 3);
    }

    [Fact]
    public void CopyRows_IndexList_CopiesSamplesAndLabelsInListOrder()
    {
        var dataset = Small();
        var batch = new Tensor(dataset.BatchShape(4));
        var labels = new int[4];

        dataset.CopyRows([4, 0, 4, 2], batch, labels);

        for (int i = 0; i < 4; i++)
        {
            int row = new[] { 4, 0, 4, 2 }[i];
            for (int j = 0; j < 6; j++)
            {
                Assert.Equal(row * 10 + j, batch[i * 6 + j]);
            }
        }

        Assert.Equal([1, 0, 1, 2], labels);
    }

    [Fact]
    public void CopyRows_LargerBuffers_LeavesTailUntouched()
    {
        var dataset = Small();
        var features = Enumerable.Repeat(-1f, 3 * 6).ToArray();
        var labels = new[] { -1, -1, -1 };

        dataset.CopyRows([1], features, labels);

        Assert.Equal(dataset.GetSample(1).ToArray(), features[..6]);
        Assert.All(features[6..], v => Assert.Equal(-1f, v));
        Assert.Equal([1, -1, -1], labels);
    }

    [Fact]
    public void CopyRows_SteadyState_AllocatesNothing()
    {
        var dataset = Small();
        var features = new float[3 * 6];
        var labels = new int[3];
        int[] rows = [2, 3, 1];
        dataset.CopyRows(rows, features, labels);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            dataset.CopyRows(rows, features, labels);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void CopyRows_RowOutOfRange_NamesRowAndDataset()
    {
        var dataset = Small();

        var e = Assert.Throws<ArgumentOutOfRangeException>(
            () => dataset.CopyRows([0, 5], new float[12], new int[2]));

        Assert.Contains("Row index 5 at position 1", e.Message);
        Assert.Contains("'small' of 5 rows", e.Message);
    }

    [Fact]
    public void CopyRows_FeatureBufferTooSmall_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Small().CopyRows([0, 1], new float[11], new int[2]));

        Assert.Contains("11 floats", e.Message);
    }

    [Fact]
    public void CopyRows_TensorOfOtherSampleShape_Throws()
    {
        Assert.Throws<ArgumentException>(() => Small().CopyRows([0], new Tensor(1, 3, 2), new int[1]));
    }

    [Fact]
    public void Constructor_LabelNotBelowClassCount_NamesRowAndRange()
    {
        var e = Assert.Throws<DatasetException>(
            () => new Dataset("d", new float[3], [0, 3, 1], [1], classCount: 3));

        Assert.Contains("row 1 has label 3, outside [0, 3)", e.Message);
    }

    [Fact]
    public void Constructor_FeatureCountNotMatchingShape_Throws()
    {
        Assert.Throws<DatasetException>(() => new Dataset("d", new float[5], [0, 1], [3], classCount: 2));
    }

    [Fact]
    public void WithClassCount_Larger_KeepsRowsAndChangesCount()
    {
        var dataset = Small();

        var wider = dataset.WithClassCount(7);

        Assert.Equal(7, wider.ClassCount);
        Assert.Equal(3, dataset.LabelBound());
        Assert.True(wider.Features.SequenceEqual(dataset.Features));
        Assert.Throws<DatasetException>(() => dataset.WithClassCount(2));
    }
}
