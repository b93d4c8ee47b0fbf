namespace DistributedBackprop.Core.Parameters;

/// <summary>
/// The layout of a model's flat parameter vector: an ordered, gap-free list of segments.
/// Gradients use the same layout, so sharding, reduction and checkpointing are slicing of one vector.
/// </summary>
public sealed class ParameterLayout
{
    public ParameterLayout(IReadOnlyList<ParameterSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        int expected = 0;
        foreach (var segment in segments)
        {
            if (segment.Offset != expected)
            {
                throw new ArgumentException(
                    $"Segment '{segment.Name}' starts at {segment.Offset}, expected {expected}: " +
                    "segments must be contiguous.");
            }

            expected = segment.End;
        }

        Segments = segments;
        Count = expected;
    }

    public IReadOnlyList<ParameterSegment> Segments { get; }

    /// <summary>Total number of floats in the flat vector.</summary>
    public int Count { get; }

    public ParameterSegment this[string name] =>
        Segments.FirstOrDefault(s => s.Name == name)
        ?? throw new KeyNotFoundException($"No parameter segment named '{name}'.");

    /// <summary>Segments overlapping [start, end), clipped to it, with offsets still absolute.</summary>
    public IEnumerable<(ParameterSegment Segment, int Start, int End)> Overlapping(int start, int end)
    {
        foreach (var segment in Segments)
        {
            int s = Math.Max(start, segment.Offset);
            int e = Math.Min(end, segment.End);
            if (s < e)
            {
                yield return (segment, s, e);
            }
        }
    }
}
