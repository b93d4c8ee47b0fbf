namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// How one GEMM is blocked and cut into tasks. The blocking (KC slices, MC and NC blocks) is fixed per call.
/// A multi-threaded call first packs the operand it does not split into a buffer all tasks share, then cuts
/// C into runs of whole tiles along N (or M), never along k. Every element is computed the same way whichever
/// task owns it, so the cut affects speed only.
/// </summary>
internal readonly unsafe struct GemmPlan
{
    // Below this many multiply-adds (about 20 µs on one core) sharing the work costs more than it saves. With
    // helpers that poll between jobs and a caller that never waits for one that has not joined (HelperCrew), a
    // batch-16 layer (16x784x256, 3.2M) went from the same ~120 µs on 1 or 2 threads to 55-95 µs on 2.
    private const long ParallelMinimumWork = 1L << 20;

    // One run of tiles per thread. Four per thread let a thread that has the CPU to itself take over work from one
    // that is descheduled, but each task then sweeps a quarter of the columns per packed block of A; on a quiet
    // 2-core machine one per thread measured faster in every shape tried (1024³ on 2 threads: a median of about
    // 174 against 145 GFLOP/s; 128x784x256: 118 against 100).
    private const int TasksPerThread = 1;

    // Depth of one transpose in GemmPacking.
    private const int TransposeWidth = 8;

    private GemmPlan(int depthBlock, int rowBlock, int columnBlock, bool splitColumns, int chunk, int taskCount)
    {
        DepthBlock = depthBlock;
        RowBlock = rowBlock;
        ColumnBlock = columnBlock;
        SplitColumns = splitColumns;
        Chunk = chunk;
        TaskCount = taskCount;
    }

    /// <summary>KC for this call: k cut into equal slices no deeper than the kernel's preferred depth.</summary>
    public int DepthBlock { get; }

    public int RowBlock { get; }

    public int ColumnBlock { get; }

    /// <summary>Tasks own runs of columns of C (and A is shared), or else runs of rows (and B is shared).</summary>
    public bool SplitColumns { get; }

    /// <summary>Columns (or rows) per task, a multiple of the micro-tile.</summary>
    public int Chunk { get; }

    public int TaskCount { get; }

    /// <summary>The operand packed once for all tasks: all of A (when SplitColumns) or all of B; else null.</summary>
    public float* Shared { get; init; }

    public static GemmPlan Create<TKernel>(int m, int n, int k, int threads)
        where TKernel : struct, IGemmMicroKernel
    {
        int mr = TKernel.RowTile;
        int nr = TKernel.ColumnTile;

        // Equal KC slices: 784 becomes 200 + 200 + 200 + 184 rather than 3 × 256 + 16, whose last slice would
        // spend more on loading and storing C than on arithmetic. Slices are whole multiples of the packing's
        // 8×8 transposes, which would otherwise finish every slice with a scalar gather. NC blocks are
        // equalised likewise, so that A is not packed again for a thin last block of columns.
        int slices = (k + TKernel.DepthBlock - 1) / TKernel.DepthBlock;
        int depthBlock = Math.Min(TKernel.DepthBlock, RoundUp((k + slices - 1) / slices, TransposeWidth));
        int rowBlock = Math.Min(TKernel.RowBlock, RoundUp(m, mr));
        int columnBlocks = (n + TKernel.ColumnBlock - 1) / TKernel.ColumnBlock;
        int columnBlock = RoundUp((n + columnBlocks - 1) / columnBlocks, nr);

        int rowTiles = (m + mr - 1) / mr;
        int columnTiles = (n + nr - 1) / nr;
        if (threads <= 1 || (long)m * n * k < ParallelMinimumWork || Math.Max(rowTiles, columnTiles) < 2)
        {
            return new GemmPlan(depthBlock, rowBlock, columnBlock, splitColumns: true, chunk: n, taskCount: 1);
        }

        bool splitColumns = columnTiles >= rowTiles || columnTiles >= threads * TasksPerThread;
        int extent = splitColumns ? n : m;
        int tile = splitColumns ? nr : mr;
        int tiles = splitColumns ? columnTiles : rowTiles;
        int tasks = Math.Min(tiles, threads * TasksPerThread);
        int chunk = (tiles + tasks - 1) / tasks * tile;
        return new GemmPlan(depthBlock, rowBlock, columnBlock, splitColumns, chunk, (extent + chunk - 1) / chunk);
    }

    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
