using DistributedBackprop.Core.Data;

namespace DistributedBackprop.Core.Tests.Data;

public sealed class CsvDatasetReaderTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Write(string text)
    {
        string path = _temp.File("data.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Read_HeaderLine_SkipsItAndParsesRows()
    {
        string path = Write("label,x1,x2\n2,0.5,-1.25\n0,3e2,4\n");

        var dataset = CsvDatasetReader.Read(path);

        Assert.Equal(2, dataset.Count);
        Assert.Equal([2], dataset.SampleShape.ToArray());
        Assert.Equal([0.5f, -1.25f, 300f, 4f], dataset.Features.ToArray());
        Assert.Equal([2, 0], dataset.Labels.ToArray());
        Assert.Equal(3, dataset.ClassCount);
        Assert.Equal("data", dataset.Name);
    }

    [Fact]
    public void Read_NoHeaderCrLfAndBlankLines_ParsesEveryRow()
    {
        string path = Write("1, 0.25 ,7\r\n\r\n0,1,2\r\n");

        var dataset = CsvDatasetReader.Read(path);

        Assert.Equal(2, dataset.Count);
        Assert.Equal([0.25f, 7f, 1f, 2f], dataset.Features.ToArray());
        Assert.Equal([1, 0], dataset.Labels.ToArray());
    }

    [Fact]
    public void Read_HeaderForcedOff_NonNumericFirstLineIsAnError()
    {
        string path = Write("label,x\n1,2\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path, hasHeader: false));

        Assert.Contains("line 1, column 1", e.Message);
        Assert.Contains("\"label\"", e.Message);
    }

    [Fact]
    public void Read_LabelColumnLast_TakesFeaturesFromOtherColumns()
    {
        string path = Write("1.5,2.5,3\n4.5,5.5,1\n");

        var dataset = CsvDatasetReader.Read(path, labelColumn: 2, classCount: 5);

        Assert.Equal([1.5f, 2.5f, 4.5f, 5.5f], dataset.Features.ToArray());
        Assert.Equal([3, 1], dataset.Labels.ToArray());
        Assert.Equal(5, dataset.ClassCount);
    }

    [Fact]
    public void Read_NonNumericValue_NamesFileLineColumnAndValue()
    {
        string path = Write("y,a,b,c\n1,2,3,4\n0,5,abc,6\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path));

        Assert.Equal($"{path}: line 3, column 3: non-numeric value \"abc\".", e.Message);
    }

    [Fact]
    public void Read_LineWithTooManyFields_NamesLineAndBothCounts()
    {
        string path = Write("1,2,3\n0,1,2\n1,2,3,4,5\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("has 5 fields, expected 3", e.Message);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    public void Read_NegativeOrFractionalLabel_NamesLineColumnAndLabel(string label)
    {
        string path = Write($"0,1\n{label},2\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path));

        Assert.Contains($"{path}: line 2, column 1: label \"{label}\"", e.Message);
        Assert.Contains("non-negative integer", e.Message);
    }

    [Fact]
    public void Read_LabelNotBelowGivenClassCount_NamesRange()
    {
        string path = Write("0,1\n3,2\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path, classCount: 3));

        Assert.Contains("line 2, column 1", e.Message);
        Assert.Contains("outside [0, 3)", e.Message);
    }

    [Fact]
    public void Read_LabelColumnBeyondFields_NamesColumnAndFieldCount()
    {
        string path = Write("0,1\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path, labelColumn: 4));

        Assert.Contains("label column 5", e.Message);
        Assert.Contains("2 fields", e.Message);
    }

    [Fact]
    public void Read_HeaderOnly_ReportsNoDataRows()
    {
        string path = Write("label,x\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path));

        Assert.Contains("no data rows", e.Message);
    }

    [Fact]
    public void Read_InfiniteFeature_IsAnError()
    {
        string path = Write("0,1\n1,Infinity\n");

        var e = Assert.Throws<DatasetException>(() => CsvDatasetReader.Read(path, hasHeader: false));

        Assert.Contains("line 2, column 2", e.Message);
        Assert.Contains("not a finite number", e.Message);
    }
}
