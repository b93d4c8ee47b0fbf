using DistributedBackprop.Core.Data;

namespace DistributedBackprop.Core.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private const int Count = 7;
    private const int Rows = 3;
    private const int Columns = 4;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_WrittenFiles_RoundTripsPixelsScaledAndLabels(bool gzip)
    {
        var (pixels, labels) = IdxTestFiles.WriteSplit(_temp.Path, "train", Count, Rows, Columns, 10, seed: 3, gzip);
        string suffix = gzip ? ".gz" : "";

        var dataset = IdxReader.Read(
            _temp.File("train-images-idx3-ubyte" + suffix), _temp.File("train-labels-idx1-ubyte" + suffix), "t", 10);

        Assert.Equal(Count, dataset.Count);
        Assert.Equal([1, Rows, Columns], dataset.SampleShape.ToArray());
        Assert.Equal(10, dataset.ClassCount);
        for (int i = 0; i < pixels.Length; i++)
        {
            Assert.Equal(pixels[i] / 255.0, dataset.Features[i], 1e-7);
        }

        Assert.Equal(labels.Select(b => (int)b), dataset.Labels.ToArray());
    }

    [Fact]
    public void Read_NoClassCount_InfersLargestLabelPlusOne()
    {
        IdxTestFiles.Write(_temp.File("i"), 0x08, [3, 1, 1], [0, 128, 255]);
        IdxTestFiles.Write(_temp.File("l"), 0x08, [3], [0, 4, 2]);

        var dataset = IdxReader.Read(_temp.File("i"), _temp.File("l"), "t");

        Assert.Equal(5, dataset.ClassCount);
        Assert.Equal([0f, 128 / 255f, 1f], dataset.Features.ToArray());
    }

    [Fact]
    public void ReadImages_LabelFileGiven_ReportsWrongMagicWithFoundAndExpected()
    {
        string path = _temp.File("labels-as-images");
        IdxTestFiles.Write(path, 0x08, [2], [1, 2]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("offset 3", e.Message);
        Assert.Contains("0x00000801", e.Message);
        Assert.Contains("expected 0x00000803", e.Message);
    }

    [Fact]
    public void ReadImages_NotIdx_ReportsWrongMagicAtOffsetZero()
    {
        string path = _temp.File("not-idx");
        File.WriteAllBytes(path, [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("offset 0", e.Message);
        Assert.Contains("0x504B0304", e.Message);
        Assert.Contains("0x00000803", e.Message);
    }

    [Fact]
    public void ReadImages_FloatTypeCode_ReportsUnsupportedTypeCode()
    {
        string path = _temp.File("floats");
        IdxTestFiles.Write(path, 0x0D, [1, 1, 1], [0, 0, 0, 0]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("offset 2", e.Message);
        Assert.Contains("unsupported type code 0x0D", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_DataShorterThanHeaderSays_ReportsExpectedAndFoundBytes(bool gzip)
    {
        string path = _temp.File("short");
        IdxTestFiles.Write(path, 0x08, [5, 3, 4], IdxTestFiles.RandomBytes(59, seed: 1), gzip);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("expected 60 bytes of data after the 16-byte header, found 59", e.Message);
        Assert.Contains("offset 75", e.Message);
    }

    [Fact]
    public void ReadImages_FileEndsInsideHeader_ReportsOffset()
    {
        string path = _temp.File("header");
        File.WriteAllBytes(path, [0, 0, 8, 3, 0, 0, 0, 5, 0, 0]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("offset 10", e.Message);
        Assert.Contains("16 header bytes", e.Message);
    }

    [Fact]
    public void ReadImages_TrailingBytes_ReportsSizeMismatch()
    {
        string path = _temp.File("long");
        IdxTestFiles.Write(path, 0x08, [1, 2, 2], [1, 2, 3, 4, 5]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("expected 4 bytes of data after the 16-byte header, found 5", e.Message);
    }

    [Fact]
    public void ReadImages_CutGzipStream_ThrowsDatasetExceptionNamingFile()
    {
        string whole = _temp.File("whole.gz");
        IdxTestFiles.Write(whole, 0x08, [50, 10, 10], IdxTestFiles.RandomBytes(5000, seed: 2), gzip: true);
        byte[] bytes = File.ReadAllBytes(whole);
        string path = _temp.File("cut.gz");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ReadImages_MissingFile_NamesPath()
    {
        string path = _temp.File("absent");

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Read_LabelCountDiffersFromImageCount_NamesBothFilesAndCounts()
    {
        IdxTestFiles.Write(_temp.File("i"), 0x08, [3, 1, 1], [1, 2, 3]);
        IdxTestFiles.Write(_temp.File("l"), 0x08, [2], [0, 1]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.Read(_temp.File("i"), _temp.File("l"), "t", 10));

        Assert.StartsWith(_temp.File("l") + ": offset 4", e.Message);
        Assert.Contains(_temp.File("i"), e.Message);
        Assert.Contains("2 labels", e.Message);
        Assert.Contains("3 images", e.Message);
    }

    [Fact]
    public void ReadLabels_LabelNotBelowClassCount_NamesOffsetRowAndRange()
    {
        string path = _temp.File("l");
        IdxTestFiles.Write(path, 0x08, [4], [0, 9, 10, 1]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadLabels(path, classCount: 10));

        Assert.Contains(path, e.Message);
        Assert.Contains("offset 10", e.Message);
        Assert.Contains("label 10 of row 2", e.Message);
        Assert.Contains("[0, 10)", e.Message);
    }
}
