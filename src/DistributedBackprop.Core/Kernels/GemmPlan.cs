namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// How one GEMM is cut into tasks: equal runs of whole tiles along N or along M, never along k. Every
/// element is computed the same way whichever task owns it, so the cut affects speed only.
/// </summary>
internal readonly struct GemmPlan
{
    // Below this many multiply-adds (about 50 µs on one core) waking another thread costs more than it saves.
    private const long ParallelMinimumWork = 1L << 22;

    private GemmPlan(bool splitColumns, int chunk, int taskCount)
    {
        SplitColumns = splitColumns;
        Chunk = chunk;
        TaskCount = taskCount;
    }

    public bool SplitColumns { get; }

    /// <summary>Columns (or rows) per task, a multiple of the micro-tile.</summary>
    public int Chunk { get; }

    public int TaskCount { get; }

    public static GemmPlan Create(int m, int n, int k, int rowTile, int columnTile, int threads)
    {
        if (threads <= 1 || (long)m * n * k < ParallelMinimumWork)
        {
            return new GemmPlan(splitColumns: true, chunk: n, taskCount: 1);
        }

        // Each task packs the whole of the operand it does not split, so split the wider side of C:
        // the duplicated packing is then the smaller operand.
        bool splitColumns = n >= m;
        int extent = splitColumns ? n : m;
        int tile = splitColumns ? columnTile : rowTile;
        int tiles = (extent + tile - 1) / tile;
        int tasks = Math.Min(threads, tiles);
        int chunk = (tiles + tasks - 1) / tasks * tile;
        return new GemmPlan(splitColumns, chunk, (extent + chunk - 1) / chunk);
    }
}
