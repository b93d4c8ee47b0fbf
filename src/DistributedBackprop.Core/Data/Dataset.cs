using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Data;

/// <summary>
/// An in-memory labelled dataset: every sample's features in one row-major array, one class index per row.
/// </summary>
/// <remarks>Immutable after construction, so one instance can be shared by any number of threads.</remarks>
public sealed class Dataset
{
    // features: (count, ...sampleShape); labels: (count)
    private readonly float[] _features;
    private readonly int[] _labels;
    private readonly int[] _sampleShape;

    /// <summary>Wraps the arrays without copying them; the caller must not change them afterwards.</summary>
    /// <param name="name">A label for messages, such as "fashion-mnist/train".</param>
    /// <param name="features">(count, ...sampleShape) row-major.</param>
    /// <param name="labels">(count) class indices in [0, classCount).</param>
    /// <param name="sampleShape">The shape of one sample, e.g. (1, 28, 28) for an image or (F) for a CSV row.</param>
    /// <param name="classCount">The number of classes; every label must be below it.</param>
    /// <exception cref="DatasetException">The sizes disagree or a label is out of range.</exception>
    public Dataset(string name, float[] features, int[] labels, int[] sampleShape, int classCount)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(sampleShape);

        long sampleSize = ShapeUtil.Product(sampleShape);
        if (sampleShape.Length == 0 || sampleSize == 0)
        {
            throw new DatasetException(
                $"Dataset '{name}': sample shape {ShapeUtil.Format(sampleShape)} is empty; a sample needs at least "
                + "one feature.");
        }

        if (features.Length != labels.Length * sampleSize)
        {
            throw new DatasetException(
                $"Dataset '{name}': {features.Length} feature values do not make {labels.Length} samples of shape "
                + $"{ShapeUtil.Format(sampleShape)} ({labels.Length * sampleSize} values expected).");
        }

        if (classCount < 1)
        {
            throw new DatasetException($"Dataset '{name}': class count {classCount} must be at least 1.");
        }

        for (int row = 0; row < labels.Length; row++)
        {
            if ((uint)labels[row] >= (uint)classCount)
            {
                throw new DatasetException(
                    $"Dataset '{name}': row {row} has label {labels[row]}, outside [0, {classCount}).");
            }
        }

        Name = name;
        _features = features;
        _labels = labels;
        _sampleShape = (int[])sampleShape.Clone();
        SampleSize = (int)sampleSize;
        ClassCount = classCount;
    }

    public string Name { get; }

    /// <summary>Number of samples (rows).</summary>
    public int Count => _labels.Length;

    /// <summary>The shape of one sample, without the batch dimension.</summary>
    public ReadOnlySpan<int> SampleShape => _sampleShape;

    /// <summary>Number of floats in one sample: the product of <see cref="SampleShape"/>.</summary>
    public int SampleSize { get; }

    public int ClassCount { get; }

    /// <summary>All features, (count, ...sampleShape) row-major.</summary>
    public ReadOnlySpan<float> Features => _features;

    /// <summary>All labels, (count).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The features of one row, (...sampleShape).</summary>
    public ReadOnlySpan<float> GetSample(int row) => _features.AsSpan(checked(row * SampleSize), SampleSize);

    /// <summary>(batch, ...sampleShape) as a new array, for sizing the tensor that CopyRows fills.</summary>
    public int[] BatchShape(int batch) => ShapeUtil.WithBatch(batch, _sampleShape);

    /// <summary>The largest label present plus one (0 for an empty dataset).</summary>
    public int LabelBound()
    {
        int max = -1;
        foreach (int label in _labels)
        {
            max = Math.Max(max, label);
        }

        return max + 1;
    }

    /// <summary>The same rows with another class count (for aligning a train and a test split).</summary>
    /// <exception cref="DatasetException">A label is not below <paramref name="classCount"/>.</exception>
    public Dataset WithClassCount(int classCount) =>
        classCount == ClassCount ? this : new Dataset(Name, _features, _labels, _sampleShape, classCount);

    /// <summary>
    /// Copies the given rows, in order, into a (batch, ...sampleShape) feature buffer and a (batch) label span,
    /// where batch = rows.Length. Allocates nothing: this runs on every training step.
    /// </summary>
    /// <param name="rows">(batch) row indices in [0, Count); repeats are allowed.</param>
    /// <param name="features">At least batch · SampleSize floats; only the first batch · SampleSize are set.</param>
    /// <param name="labels">At least batch ints; only the first batch are written.</param>
    public void CopyRows(ReadOnlySpan<int> rows, Span<float> features, Span<int> labels)
    {
        int sampleSize = SampleSize;
        if (features.Length < (long)rows.Length * sampleSize)
        {
            throw new ArgumentException(
                $"The feature buffer holds {features.Length} floats; {rows.Length} rows of {sampleSize} need "
                + $"{(long)rows.Length * sampleSize}.",
                nameof(features));
        }

        if (labels.Length < rows.Length)
        {
            throw new ArgumentException(
                $"The label buffer holds {labels.Length} ints; {rows.Length} rows need {rows.Length}.", nameof(labels));
        }

        for (int i = 0; i < rows.Length; i++)
        {
            int row = rows[i];
            if ((uint)row >= (uint)_labels.Length)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(rows), $"Row index {row} at position {i} is outside dataset '{Name}' of {Count} rows.");
            }

            _features.AsSpan(row * sampleSize, sampleSize).CopyTo(features.Slice(i * sampleSize, sampleSize));
            labels[i] = _labels[row];
        }
    }

    /// <summary>
    /// Copies the given rows into the first rows.Length rows of <paramref name="batch"/>, whose sample shape must
    /// match this dataset's; see <see cref="CopyRows(ReadOnlySpan{int}, Span{float}, Span{int})"/>.
    /// </summary>
    /// <param name="batch">(batchCapacity, ...sampleShape) with batchCapacity ≥ rows.Length.</param>
    public void CopyRows(ReadOnlySpan<int> rows, Tensor batch, Span<int> labels)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Rank == 0 || !batch.Shape.AsSpan(1).SequenceEqual(_sampleShape))
        {
            throw new ArgumentException(
                $"Batch tensor {batch} does not hold samples of shape {ShapeUtil.Format(_sampleShape)} "
                + $"of dataset '{Name}'.",
                nameof(batch));
        }

        CopyRows(rows, batch.Span, labels);
    }

    public override string ToString() =>
        $"{Name}: {Count} rows of {ShapeUtil.Format(_sampleShape)}, {ClassCount} classes";
}
