using System.Collections.Concurrent;

namespace DistributedBackprop.Core.Data;

/// <summary>
/// Finds a dataset by name ("fashion-mnist", "mnist") or directory, and loads its train and test splits.
/// </summary>
/// <remarks>
/// A directory holds either the four IDX files under their standard names (each raw or gzipped) or
/// train.csv and test.csv (read by <see cref="CsvDatasetReader"/> with the label in column 0). A name is looked
/// up as &lt;dataRoot&gt;/&lt;name&gt; first, then &lt;systemRoot&gt;/&lt;name&gt;, where Debian's
/// dataset-fashion-mnist package installs /usr/share/datasets/fashion-mnist.
/// Loaded datasets are cached for the life of the process, per directory, and shared by every catalog
/// instance, so several workers in one process read a dataset once. The cache does not notice files changing
/// after they were loaded. All members are thread-safe.
/// </remarks>
public sealed class DatasetCatalog
{
    /// <summary>Where Debian's dataset packages install their data.</summary>
    public const string DefaultSystemRoot = "/usr/share/datasets";

    private const string IdxFileList =
        "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and "
        + "t10k-labels-idx1-ubyte[.gz], or train.csv and test.csv (label in column 0)";

    private static readonly KnownDataset[] Known =
    [
        new("fashion-mnist", 10, "Install it with `apt-get install -y dataset-fashion-mnist`"),
        new("mnist", 10, "No Debian package ships MNIST: put its four IDX files into one of those directories"),
    ];

    private static readonly ConcurrentDictionary<string, Lazy<TrainTestDatasets>> Cache = new();

    private readonly string _systemRoot;

    /// <param name="systemRoot">The directory of installed datasets; <see cref="DefaultSystemRoot"/> normally.</param>
    public DatasetCatalog(string systemRoot = DefaultSystemRoot)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(systemRoot);
        _systemRoot = systemRoot;
    }

    /// <summary>A catalog over <see cref="DefaultSystemRoot"/>.</summary>
    public static DatasetCatalog Default { get; } = new();

    /// <summary>The dataset names this catalog knows.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Known, k => k.Name);

    /// <summary>Loads (or returns the cached) train and test splits of a named dataset or a directory.</summary>
    /// <param name="dataset">"fashion-mnist", "mnist", or a directory path.</param>
    /// <param name="dataRoot">
    /// An optional directory searched before the system root for &lt;dataRoot&gt;/&lt;name&gt;, such as a silo's
    /// data directory. Ignored when <paramref name="dataset"/> is a directory.
    /// </param>
    /// <exception cref="DatasetException">
    /// The name is unknown, nothing was found (the message lists every place searched and how to get the data),
    /// or a file is malformed.
    /// </exception>
    public TrainTestDatasets Load(string dataset, string? dataRoot = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataset);
        var known = Array.Find(Known, k => string.Equals(k.Name, dataset, StringComparison.OrdinalIgnoreCase));
        if (known is not null)
        {
            return LoadKnown(known, dataRoot);
        }

        if (!LooksLikePath(dataset))
        {
            throw new DatasetException(
                $"Unknown dataset '{dataset}': use {string.Join(" or ", Names)}, or a directory path holding "
                + $"{IdxFileList}.");
        }

        var probe = Probe(dataset);
        if (probe.Source is null)
        {
            throw new DatasetException(
                $"Dataset directory {dataset}: {probe.Problem}. It must hold {IdxFileList}.");
        }

        return LoadCached(probe.Source, classCount: null, Path.GetFileName(probe.Source.Directory));
    }

    private TrainTestDatasets LoadKnown(KnownDataset known, string? dataRoot)
    {
        var searched = new List<string>();
        foreach (string root in dataRoot is null ? [_systemRoot] : new[] { dataRoot, _systemRoot })
        {
            string directory = Path.Combine(root, known.Name);
            var probe = Probe(directory);
            if (probe.Source is not null)
            {
                return LoadCached(probe.Source, known.ClassCount, known.Name);
            }

            searched.Add($"{directory} ({probe.Problem})");
        }

        throw new DatasetException(
            $"Dataset '{known.Name}' was not found. Searched: {string.Join("; ", searched)}. "
            + $"{known.InstallHint}, or pass --dataset DIR with {IdxFileList}.");
    }

    private static TrainTestDatasets LoadCached(DatasetSource source, int? classCount, string name)
    {
        string key = $"{source.Directory}|{classCount}";
        var lazy = Cache.GetOrAdd(key, _ => new Lazy<TrainTestDatasets>(
            () => Read(source, classCount, name), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch (Exception)
        {
            // A failed load is not cached: the files may be fixed and the load retried.
            Cache.TryRemove(new KeyValuePair<string, Lazy<TrainTestDatasets>>(key, lazy));
            throw;
        }
    }

    private static TrainTestDatasets Read(DatasetSource source, int? classCount, string name)
    {
        Dataset train;
        Dataset test;
        if (source.Csv)
        {
            train = CsvDatasetReader.Read(source.Train, name + "/train", classCount: classCount);
            test = CsvDatasetReader.Read(source.Test, name + "/test", classCount: classCount);
        }
        else
        {
            train = IdxReader.Read(source.Train, source.TrainLabels!, name + "/train", classCount);
            test = IdxReader.Read(source.Test, source.TestLabels!, name + "/test", classCount);
        }

        if (!train.SampleShape.SequenceEqual(test.SampleShape))
        {
            throw new DatasetException(
                $"{source.Test}: test samples have the shape ({string.Join(", ", test.SampleShape.ToArray())}) but "
                + $"train samples in {source.Train} have ({string.Join(", ", train.SampleShape.ToArray())}).");
        }

        // Without a known class count each split infers its own; the model needs the larger of the two.
        int classes = Math.Max(train.ClassCount, test.ClassCount);
        return new TrainTestDatasets(train.WithClassCount(classes), test.WithClassCount(classes), source.Directory);
    }

    /// <summary>Finds the dataset files in a directory, or says what is missing.</summary>
    private static (DatasetSource? Source, string Problem) Probe(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return (null, "directory does not exist");
        }

        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        string? trainImages = FindFile(full, "train-images-idx3-ubyte", "train-images.idx3-ubyte");
        string? trainLabels = FindFile(full, "train-labels-idx1-ubyte", "train-labels.idx1-ubyte");
        string? testImages = FindFile(full, "t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte");
        string? testLabels = FindFile(full, "t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte");
        if (trainImages is not null && trainLabels is not null && testImages is not null && testLabels is not null)
        {
            return (new DatasetSource(full, false, trainImages, trainLabels, testImages, testLabels), "");
        }

        string? trainCsv = FindFile(full, "train.csv");
        string? testCsv = FindFile(full, "test.csv");
        if (trainCsv is not null && testCsv is not null)
        {
            return (new DatasetSource(full, true, trainCsv, null, testCsv, null), "");
        }

        var missingIdx = new List<string>();
        AddIfMissing(missingIdx, trainImages, "train-images-idx3-ubyte[.gz]");
        AddIfMissing(missingIdx, trainLabels, "train-labels-idx1-ubyte[.gz]");
        AddIfMissing(missingIdx, testImages, "t10k-images-idx3-ubyte[.gz]");
        AddIfMissing(missingIdx, testLabels, "t10k-labels-idx1-ubyte[.gz]");
        if (missingIdx.Count == 4 && trainCsv is null && testCsv is null)
        {
            return (null, "holds none of the dataset files");
        }

        // Report the set the directory seems meant to hold, so the message names the files actually missing.
        return missingIdx.Count < 4
            ? (null, $"missing {string.Join(", ", missingIdx)}")
            : (null, $"missing {(trainCsv is null ? "train.csv" : "test.csv")}");
    }

    private static void AddIfMissing(List<string> missing, string? found, string name)
    {
        if (found is null)
        {
            missing.Add(name);
        }
    }

    /// <summary>The first of the names that exists in the directory, raw or with ".gz".</summary>
    private static string? FindFile(string directory, params string[] names)
    {
        foreach (string name in names)
        {
            foreach (string candidate in new[] { name, name + ".gz" })
            {
                string path = Path.Combine(directory, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    private static bool LooksLikePath(string dataset) =>
        dataset.Contains('/') || dataset.Contains('\\') || dataset.StartsWith('.') || dataset.StartsWith('~')
        || Path.IsPathRooted(dataset) || Directory.Exists(dataset);

    private sealed record KnownDataset(string Name, int ClassCount, string InstallHint);

    /// <param name="Train">The train images (IDX) or train.csv.</param>
    /// <param name="Test">The test images (IDX) or test.csv.</param>
    private sealed record DatasetSource(
        string Directory, bool Csv, string Train, string? TrainLabels, string Test, string? TestLabels);
}
