using System.Numerics.Tensors;
using DistributedBackprop.Core.Data;

namespace DistributedBackprop.Core.Tests.Data;

public sealed class DatasetCatalogTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Load_DirectoryWithMixedRawAndGzipIdx_ReadsBothSplits()
    {
        string directory = _temp.Subdirectory("digits");
        var (trainPixels, _) = IdxTestFiles.WriteSplit(directory, "train", 6, 2, 3, 4, seed: 1, gzip: true);
        IdxTestFiles.WriteSplit(directory, "t10k", 4, 2, 3, 4, seed: 2, gzip: false);

        var splits = new DatasetCatalog(_temp.File("system")).Load(directory);

        Assert.Equal(6, splits.Train.Count);
        Assert.Equal(4, splits.Test.Count);
        Assert.Equal([1, 2, 3], splits.Test.SampleShape.ToArray());
        Assert.Equal(trainPixels[5] / 255.0, splits.Train.Features[5], 1e-7);
        Assert.Equal("digits/train", splits.Train.Name);
        Assert.Equal(splits.Train.ClassCount, splits.Test.ClassCount);
    }

    [Fact]
    public void Load_CsvDirectory_AlignsClassCountToLargerSplit()
    {
        string directory = _temp.Subdirectory("tabular");
        File.WriteAllText(Path.Combine(directory, "train.csv"), "y,a,b\n0,1,2\n2,3,4\n");
        File.WriteAllText(Path.Combine(directory, "test.csv"), "y,a,b\n4,5,6\n");

        var splits = new DatasetCatalog(_temp.File("system")).Load(directory);

        Assert.Equal(5, splits.Train.ClassCount);
        Assert.Equal(5, splits.Test.ClassCount);
        Assert.Equal([2], splits.Train.SampleShape.ToArray());
    }

    [Fact]
    public void Load_CsvSplitsWithDifferentFeatureCounts_NamesBothFiles()
    {
        string directory = _temp.Subdirectory("tabular");
        File.WriteAllText(Path.Combine(directory, "train.csv"), "0,1,2\n");
        File.WriteAllText(Path.Combine(directory, "test.csv"), "0,1\n");

        var e = Assert.Throws<DatasetException>(() => new DatasetCatalog(_temp.File("system")).Load(directory));

        Assert.Contains("train.csv", e.Message);
        Assert.Contains("test.csv", e.Message);
    }

    [Fact]
    public void Load_SameDirectoryFromManyThreads_ReturnsOneCachedInstance()
    {
        string directory = _temp.Subdirectory("shared");
        IdxTestFiles.WriteSplit(directory, "train", 5, 2, 2, 3, seed: 1, gzip: false);
        IdxTestFiles.WriteSplit(directory, "t10k", 5, 2, 2, 3, seed: 2, gzip: false);
        var catalogs = new[] { new DatasetCatalog(_temp.File("a")), new DatasetCatalog(_temp.File("b")) };

        var loaded = new TrainTestDatasets[8];
        Parallel.For(0, loaded.Length, i => loaded[i] = catalogs[i % 2].Load(directory + "/"));

        Assert.All(loaded, splits => Assert.Same(loaded[0].Train, splits.Train));
    }

    [Fact]
    public void Load_FailedLoad_IsRetriedOnceFilesAreFixed()
    {
        string directory = _temp.Subdirectory("flaky");
        IdxTestFiles.WriteSplit(directory, "train", 5, 2, 2, 3, seed: 1, gzip: false);
        IdxTestFiles.WriteSplit(directory, "t10k", 5, 2, 2, 3, seed: 2, gzip: false);
        string labels = Path.Combine(directory, "t10k-labels-idx1-ubyte");
        IdxTestFiles.Write(labels, 0x08, [4], [0, 1, 2, 0]);
        var catalog = new DatasetCatalog(_temp.File("system"));

        Assert.Throws<DatasetException>(() => catalog.Load(directory));
        IdxTestFiles.Write(labels, 0x08, [5], [0, 1, 2, 0, 1]);

        Assert.Equal(5, catalog.Load(directory).Test.Count);
    }

    [Fact]
    public void Load_KnownName_SearchesDataRootBeforeSystemRoot()
    {
        string system = _temp.Subdirectory("system");
        string dataRoot = _temp.Subdirectory("silo");
        string preferred = Directory.CreateDirectory(Path.Combine(dataRoot, "mnist")).FullName;
        IdxTestFiles.WriteSplit(preferred, "train", 3, 2, 2, 10, seed: 1, gzip: true);
        IdxTestFiles.WriteSplit(preferred, "t10k", 2, 2, 2, 10, seed: 2, gzip: true);
        string other = Directory.CreateDirectory(Path.Combine(system, "mnist")).FullName;
        IdxTestFiles.WriteSplit(other, "train", 4, 2, 2, 10, seed: 1, gzip: true);
        IdxTestFiles.WriteSplit(other, "t10k", 4, 2, 2, 10, seed: 2, gzip: true);

        var splits = new DatasetCatalog(system).Load("MNIST", dataRoot);

        Assert.Equal(preferred, splits.Source);
        Assert.Equal(3, splits.Train.Count);
        Assert.Equal(10, splits.Train.ClassCount);
        Assert.Equal("mnist/train", splits.Train.Name);
    }

    [Fact]
    public void Load_KnownNameNowhere_MessageListsEverySearchedPlaceAndHowToGetIt()
    {
        string system = _temp.Subdirectory("system");
        string dataRoot = _temp.Subdirectory("silo");
        string partial = Directory.CreateDirectory(Path.Combine(system, "fashion-mnist")).FullName;
        IdxTestFiles.WriteSplit(partial, "train", 3, 2, 2, 10, seed: 1, gzip: true);

        var e = Assert.Throws<DatasetException>(() => new DatasetCatalog(system).Load("fashion-mnist", dataRoot));

        Assert.Contains($"{Path.Combine(dataRoot, "fashion-mnist")} (directory does not exist)", e.Message);
        Assert.Contains($"{partial} (missing t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])", e.Message);
        Assert.Contains("apt-get install -y dataset-fashion-mnist", e.Message);
        Assert.Contains("--dataset DIR with train-images-idx3-ubyte[.gz]", e.Message);
    }

    [Fact]
    public void Load_UnknownName_SaysWhatIsAllowed()
    {
        var e = Assert.Throws<DatasetException>(() => DatasetCatalog.Default.Load("cifar10"));

        Assert.Contains("Unknown dataset 'cifar10'", e.Message);
        Assert.Contains("fashion-mnist or mnist", e.Message);
        Assert.Contains("directory", e.Message);
    }

    [Fact]
    public void Load_MissingDirectory_SaysItDoesNotExistAndWhatItMustHold()
    {
        string directory = _temp.File("nowhere");

        var e = Assert.Throws<DatasetException>(() => DatasetCatalog.Default.Load(directory));

        Assert.Contains($"{directory}: directory does not exist", e.Message);
        Assert.Contains("train.csv and test.csv", e.Message);
    }

    [Fact]
    public void Load_DirectoryWithOnlyTrainCsv_NamesMissingTestCsv()
    {
        string directory = _temp.Subdirectory("half");
        File.WriteAllText(Path.Combine(directory, "train.csv"), "0,1\n");

        var e = Assert.Throws<DatasetException>(() => DatasetCatalog.Default.Load(directory));

        Assert.StartsWith($"Dataset directory {directory}: missing test.csv.", e.Message);
    }

    [Fact]
    public void Load_InstalledFashionMnist_HasStandardSizesShapeAndRange()
    {
        var splits = DatasetCatalog.Default.Load("fashion-mnist");

        Assert.Equal(60000, splits.Train.Count);
        Assert.Equal(10000, splits.Test.Count);
        Assert.Equal(10, splits.Train.ClassCount);
        Assert.Equal([1, 28, 28], splits.Train.SampleShape.ToArray());
        Assert.Equal([1, 28, 28], splits.Test.SampleShape.ToArray());
        foreach (var split in new[] { splits.Train, splits.Test })
        {
            Assert.Equal(0f, TensorPrimitives.Min(split.Features));
            Assert.Equal(1f, TensorPrimitives.Max(split.Features));
        }

        // Fashion-MNIST is balanced: 6000 train and 1000 test images per class.
        Assert.All(CountPerClass(splits.Train), n => Assert.Equal(6000, n));
        Assert.All(CountPerClass(splits.Test), n => Assert.Equal(1000, n));
        Assert.Same(splits, DatasetCatalog.Default.Load("fashion-mnist"));
    }

    private static int[] CountPerClass(Dataset dataset)
    {
        var counts = new int[dataset.ClassCount];
        foreach (int label in dataset.Labels)
        {
            counts[label]++;
        }

        return counts;
    }
}
