using System.Globalization;

namespace DistributedBackprop.Core.Data;

/// <summary>
/// Reads a labelled dataset from a comma-separated file: one row per line, one column the class index, every
/// other column a numeric feature (invariant culture, so the decimal separator is '.'). Samples have the shape
/// (F), F being the number of feature columns. The file may be gzipped.
/// </summary>
/// <remarks>
/// Quoted fields are not supported, since a numeric dataset has no use for them. Blank lines are skipped.
/// </remarks>
public static class CsvDatasetReader
{
    private const char Separator = ',';

    /// <param name="path">The file to read.</param>
    /// <param name="name">The dataset's name; the file name without extension when null.</param>
    /// <param name="labelColumn">The 0-based column holding the label; 0 by default.</param>
    /// <param name="classCount">Labels must be below it; when null, it is the largest label plus one.</param>
    /// <param name="hasHeader">
    /// Whether the first line names the columns; when null, it does exactly when one of its fields is not a number.
    /// </param>
    /// <exception cref="DatasetException">
    /// The file is missing or empty, a line has the wrong number of fields, a value is not a number, or a label is
    /// negative, not an integer, or not below <paramref name="classCount"/>. The message names the 1-based line and
    /// column.
    /// </exception>
    public static Dataset Read(
        string path,
        string? name = null,
        int labelColumn = 0,
        int? classCount = null,
        bool? hasHeader = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(labelColumn);
        if (classCount is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(classCount), $"Class count {classCount} must be at least 1.");
        }

        if (!File.Exists(path))
        {
            throw new DatasetException($"{path}: the file does not exist.");
        }

        var features = new List<float>();
        var labels = new List<int>();
        int fieldCount = -1;
        int lineNumber = 0;
        using (var reader = new StreamReader(DataFile.OpenRead(path, out _)))
        {
            try
            {
                string? line;
                while ((line = reader.ReadLine()) is not null)
                {
                    lineNumber++;
                    if (string.IsNullOrWhiteSpace(line))
                    {
                        continue;
                    }

                    if (fieldCount < 0)
                    {
                        fieldCount = CountFields(line);
                        if (labelColumn >= fieldCount)
                        {
                            throw new DatasetException(
                                $"{path}: line {lineNumber}: the label column {labelColumn + 1} (0-based index "
                                + $"{labelColumn}) does not exist; the line has {fieldCount} fields.");
                        }

                        if (fieldCount < 2)
                        {
                            throw new DatasetException(
                                $"{path}: line {lineNumber}: the line has {fieldCount} field; a row needs a label "
                                + "and at least one feature.");
                        }

                        if (hasHeader ?? !AllNumeric(line))
                        {
                            continue;
                        }
                    }

                    ParseRow(line, path, lineNumber, fieldCount, labelColumn, classCount, features, labels);
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new DatasetException(
                    $"{path}: line {lineNumber}: the file cannot be read (corrupt gzip data or an I/O error): "
                    + e.Message,
                    e);
            }
        }

        if (labels.Count == 0)
        {
            throw new DatasetException($"{path}: the file holds no data rows.");
        }

        int classes = classCount ?? labels.Max() + 1;
        string datasetName = name ?? Path.GetFileNameWithoutExtension(path);
        return new Dataset(datasetName, features.ToArray(), labels.ToArray(), [fieldCount - 1], classes);
    }

    private static void ParseRow(
        string line,
        string path,
        int lineNumber,
        int fieldCount,
        int labelColumn,
        int? classCount,
        List<float> features,
        List<int> labels)
    {
        int found = CountFields(line);
        if (found != fieldCount)
        {
            throw new DatasetException(
                $"{path}: line {lineNumber}: the line has {found} fields, expected {fieldCount} like the first line.");
        }

        var rest = line.AsSpan();
        for (int column = 0; column < fieldCount; column++)
        {
            int comma = rest.IndexOf(Separator);
            var field = (comma < 0 ? rest : rest[..comma]).Trim();
            rest = comma < 0 ? default : rest[(comma + 1)..];

            if (column != labelColumn)
            {
                if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float feature))
                {
                    throw new DatasetException(
                        $"{path}: line {lineNumber}, column {column + 1}: non-numeric value \"{field}\".");
                }

                if (!float.IsFinite(feature))
                {
                    throw new DatasetException(
                        $"{path}: line {lineNumber}, column {column + 1}: value \"{field}\" is not a finite number.");
                }

                features.Add(feature);
                continue;
            }

            if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                throw new DatasetException(
                    $"{path}: line {lineNumber}, column {column + 1}: non-numeric label \"{field}\".");
            }

            if (value < 0 || value != Math.Floor(value) || value > int.MaxValue)
            {
                throw new DatasetException(
                    $"{path}: line {lineNumber}, column {column + 1}: label \"{field}\" is not a non-negative integer "
                    + "class index.");
            }

            if (value >= classCount)
            {
                throw new DatasetException(
                    $"{path}: line {lineNumber}, column {column + 1}: label {value} is outside [0, {classCount}).");
            }

            labels.Add((int)value);
        }
    }

    private static int CountFields(string line) => line.AsSpan().Count(Separator) + 1;

    private static bool AllNumeric(string line)
    {
        foreach (var range in line.AsSpan().Split(Separator))
        {
            var field = line.AsSpan()[range].Trim();
            if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }
        }

        return true;
    }
}
