using System.Globalization;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// Aligned table for people: a header whenever the benchmark changes, then one row per figure as soon as
/// it is measured, so a long run shows progress.
/// </summary>
internal sealed class TableFigureWriter(TextWriter output) : IFigureWriter
{
    private const int MinimumWidth = 8;

    private string? _benchmark;
    private int[] _widths = [];

    public void Write(Figure figure)
    {
        if (figure.Benchmark != _benchmark)
        {
            _benchmark = figure.Benchmark;
            _widths = figure.Fields.Select(f => Math.Max(MinimumWidth, f.Key.Length)).ToArray();
            output.WriteLine();
            output.WriteLine($"== {figure.Benchmark}");
            output.WriteLine(Row(figure.Fields.Select(f => f.Key)));
            output.WriteLine(string.Join("  ", _widths.Select(w => new string('-', w))));
        }

        output.WriteLine(Row(figure.Fields.Select(f => Format(f.Value))));
        output.Flush();
    }

    private string Row(IEnumerable<string> cells) =>
        string.Join("  ", cells.Select((cell, i) => cell.PadLeft(i < _widths.Length ? _widths[i] : MinimumWidth)));

    private static string Format(object value) => value switch
    {
        double d => d.ToString("F1", CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
