using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Blocked GEMM driver in the manner of Goto and van de Geijn ("Anatomy of High-Performance Matrix
/// Multiplication", 2008): for each NC-wide block of columns and each KC-deep slice of k, B is packed once;
/// for each MC-tall block of rows A is packed; then micro-kernels sweep the MR×NR tiles with a B micro-panel
/// held in L1 while A micro-panels stream from L2.
/// </summary>
/// <remarks>
/// Determinism: every kernel computes each C element as one multiply-add chain over k in ascending order,
/// started from 0 (or from C when accumulating) and continued through C between KC slices, a float store and
/// reload that loses nothing. The result is therefore independent of MC, NC, KC, the tile grid and the
/// thread count; threads only ever own disjoint blocks of C.
/// </remarks>
internal static unsafe class GemmKernel
{
    // Up to this many rows a call reads B in place instead of packing it (see RunBlock). Measured on one
    // thread against the FMA peak (medians): 16x784x256 went from about 30% to 47%, 32 rows from about 40%
    // to 50%; at 128 rows packing pays for itself.
    private const int DirectBMaximumRows = 64;

    /// <summary>As <see cref="Gemm.Multiply"/>, on the given instruction set; arguments already validated.</summary>
    public static void Multiply(
        GemmIsa isa,
        Transpose transposeA,
        Transpose transposeB,
        int m,
        int n,
        int k,
        ReadOnlySpan<float> a,
        ReadOnlySpan<float> b,
        Span<float> c,
        bool accumulate,
        int threads)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                c[..(m * n)].Clear();
            }

            return;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = new GemmProblem(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate);
            switch (isa)
            {
                case GemmIsa.Vector512:
                    Run<GemmMicroKernel512>(problem, threads);
                    break;
                case GemmIsa.Vector256:
                    Run<GemmMicroKernel256>(problem, threads);
                    break;
                default:
                    Run<GemmMicroKernelScalar>(problem, threads);
                    break;
            }
        }
    }

    /// <summary>The micro-tile (rows, columns) of C the kernel of <paramref name="isa"/> computes at once.</summary>
    public static (int Rows, int Columns) TileShape(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => (GemmMicroKernel512.RowTile, GemmMicroKernel512.ColumnTile),
        GemmIsa.Vector256 => (GemmMicroKernel256.RowTile, GemmMicroKernel256.ColumnTile),
        _ => (GemmMicroKernelScalar.RowTile, GemmMicroKernelScalar.ColumnTile),
    };

    private static void Run<TKernel>(in GemmProblem problem, int threads)
        where TKernel : struct, IGemmMicroKernel
    {
        var plan = GemmPlan.Create<TKernel>(problem.M, problem.N, problem.K, threads);
        var pool = GemmWorkerPool.Shared;
        if (plan.TaskCount == 1 || !pool.TryEnter())
        {
            RunBlock<TKernel>(problem, plan, 0, problem.M, 0, problem.N);
            return;
        }

        try
        {
            // The shared buffer belongs to whoever holds the pool, so one buffer serves every caller in turn.
            int rowsPadded = GemmPlan.RoundUp(problem.M, TKernel.RowTile);
            int columnsPadded = GemmPlan.RoundUp(problem.N, TKernel.ColumnTile);
            var workspace = GemmWorkspace.Shared;
            float* shared = plan.SplitColumns
                ? workspace.PackedA(checked(rowsPadded * problem.K))
                : workspace.PackedB(checked(columnsPadded * problem.K));
            plan = plan with { Shared = shared };

            int slices = (problem.K + plan.DepthBlock - 1) / plan.DepthBlock;
            int blocks = plan.SplitColumns
                ? (problem.M + plan.RowBlock - 1) / plan.RowBlock
                : (problem.N + plan.ColumnBlock - 1) / plan.ColumnBlock;
            pool.Run(
                problem, plan, &PackSharedTask<TKernel>, slices * blocks, &RunTask<TKernel>, plan.TaskCount, threads);
        }
        finally
        {
            pool.Exit();
        }
    }

    // Packs one (KC slice, MC or NC block) of the shared operand at the place RunBlock will look for it.
    private static void PackSharedTask<TKernel>(in GemmProblem problem, in GemmPlan plan, int task)
        where TKernel : struct, IGemmMicroKernel
    {
        if (plan.SplitColumns)
        {
            int blocks = (problem.M + plan.RowBlock - 1) / plan.RowBlock;
            int pc = task / blocks * plan.DepthBlock;
            int ic = task % blocks * plan.RowBlock;
            int kc = Math.Min(plan.DepthBlock, problem.K - pc);
            int mc = Math.Min(plan.RowBlock, problem.M - ic);
            GemmPacking.PackA<TKernel>(problem, ic, mc, pc, kc, SharedA<TKernel>(problem, plan, ic, pc, kc));
        }
        else
        {
            int blocks = (problem.N + plan.ColumnBlock - 1) / plan.ColumnBlock;
            int pc = task / blocks * plan.DepthBlock;
            int jc = task % blocks * plan.ColumnBlock;
            int kc = Math.Min(plan.DepthBlock, problem.K - pc);
            int nc = Math.Min(plan.ColumnBlock, problem.N - jc);
            GemmPacking.PackB<TKernel>(problem, jc, nc, pc, kc, SharedB<TKernel>(problem, plan, jc, pc, kc));
        }
    }

    private static void RunTask<TKernel>(in GemmProblem problem, in GemmPlan plan, int task)
        where TKernel : struct, IGemmMicroKernel
    {
        int start = task * plan.Chunk;
        if (plan.SplitColumns)
        {
            RunBlock<TKernel>(problem, plan, 0, problem.M, start, Math.Min(problem.N, start + plan.Chunk));
        }
        else
        {
            RunBlock<TKernel>(problem, plan, start, Math.Min(problem.M, start + plan.Chunk), 0, problem.N);
        }
    }

    // Shared packed A: KC slices one after another, each all rows (padded to MR) as MR-row micro-panels.
    private static float* SharedA<TKernel>(in GemmProblem problem, in GemmPlan plan, int ic, int pc, int kc)
        where TKernel : struct, IGemmMicroKernel =>
        plan.Shared + (long)GemmPlan.RoundUp(problem.M, TKernel.RowTile) * pc + (long)ic * kc;

    // Shared packed B: KC slices one after another, each all columns (padded to NR) as NR-column micro-panels.
    private static float* SharedB<TKernel>(in GemmProblem problem, in GemmPlan plan, int jc, int pc, int kc)
        where TKernel : struct, IGemmMicroKernel =>
        plan.Shared + (long)GemmPlan.RoundUp(problem.N, TKernel.ColumnTile) * pc + (long)jc * kc;

    // Computes C[rowStart..rowEnd, columnStart..columnEnd) on the calling thread, packing its own blocks of
    // the operand the plan does not share.
    private static void RunBlock<TKernel>(
        in GemmProblem problem,
        in GemmPlan plan,
        int rowStart,
        int rowEnd,
        int columnStart,
        int columnEnd)
        where TKernel : struct, IGemmMicroKernel
    {
        int mr = TKernel.RowTile;
        int nr = TKernel.ColumnTile;
        int n = problem.N;
        int k = problem.K;
        bool sharedA = plan.Shared != null && plan.SplitColumns;
        bool sharedB = plan.Shared != null && !plan.SplitColumns;

        // With few rows each B element is used only once or twice, so packing B would cost about as much as
        // the product: the kernel then reads B's rows in place and only the narrow right edge is packed.
        bool directB = !sharedB && problem.TransposeB == Transpose.No && rowEnd - rowStart <= DirectBMaximumRows;

        var workspace = GemmWorkspace.Current;
        float* ownA = sharedA ? null : workspace.PackedA(plan.RowBlock * plan.DepthBlock);
        float* ownB = sharedB ? null : workspace.PackedB(plan.DepthBlock * plan.ColumnBlock);
        float* tile = workspace.Tile(mr * nr);

        for (int jc = columnStart; jc < columnEnd; jc += plan.ColumnBlock)
        {
            int nc = Math.Min(plan.ColumnBlock, columnEnd - jc);
            for (int pc = 0; pc < k; pc += plan.DepthBlock)
            {
                int kc = Math.Min(plan.DepthBlock, k - pc);
                bool loadC = problem.Accumulate || pc > 0;
                float* packedB = sharedB ? SharedB<TKernel>(problem, plan, jc, pc, kc) : ownB;
                if (!sharedB && !directB)
                {
                    GemmPacking.PackB<TKernel>(problem, jc, nc, pc, kc, packedB);
                }

                for (int ic = rowStart; ic < rowEnd; ic += plan.RowBlock)
                {
                    int mc = Math.Min(plan.RowBlock, rowEnd - ic);
                    float* packedA = sharedA ? SharedA<TKernel>(problem, plan, ic, pc, kc) : ownA;
                    if (!sharedA)
                    {
                        GemmPacking.PackA<TKernel>(problem, ic, mc, pc, kc, packedA);
                    }

                    int tiles = GemmRowTiles.Count(mc, mr);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int columns = Math.Min(nr, nc - jr);
                        float* panelB = packedB + (long)jr * kc;
                        int ldb = nr;
                        if (directB && columns == nr)
                        {
                            panelB = problem.B + (long)pc * n + jc + jr;
                            ldb = n;
                        }
                        else if (directB)
                        {
                            // The kernel reads NR columns: past the right edge of B it needs the zero padding.
                            panelB = ownB;
                            GemmPacking.PackB<TKernel>(problem, jc + jr, columns, pc, kc, panelB);
                        }

                        for (int t = 0; t < tiles; t++)
                        {
                            int first = GemmRowTiles.Start(t, tiles, mc);
                            int rows = GemmRowTiles.Start(t + 1, tiles, mc) - first;
                            float* panelA = packedA + (long)t * mr * kc;
                            float* c = problem.C + (long)(ic + first) * n + jc + jr;
                            if (t + 1 < tiles)
                            {
                                int nextRows = GemmRowTiles.Start(t + 2, tiles, mc) - first - rows;
                                PrefetchTile(c + (long)rows * n, n, nextRows);
                            }

                            if (columns == nr)
                            {
                                TKernel.Run(rows, panelA, panelB, ldb, kc, c, n, loadC);
                            }
                            else
                            {
                                RunNarrowTile<TKernel>(rows, columns, panelA, panelB, kc, c, n, loadC, tile);
                            }
                        }
                    }
                }
            }
        }
    }

    // Asks for the C rows the next tile will load. Rows of C lie n floats apart, a stride the hardware
    // prefetchers do not follow, and with rows of 2 or 4 KiB they also compete for the same L1 sets; the
    // kernel in between runs long enough to hide the trip to L2 or L3.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(float* c, int ldc, int rows)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            float* row = c + (long)r * ldc;
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 16);
            Sse.Prefetch0(row + 31);
        }
    }

    // A tile at the right edge of C: the kernel writes a full NR-wide tile into scratch, of which the first
    // `columns` are copied out, so the kernel never touches memory past the end of a row of C.
    private static void RunNarrowTile<TKernel>(
        int rows,
        int columns,
        float* panelA,
        float* panelB,
        int kc,
        float* c,
        int ldc,
        bool loadC,
        float* tile)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.ColumnTile;
        if (loadC)
        {
            for (int r = 0; r < rows; r++)
            {
                new ReadOnlySpan<float>(c + (long)r * ldc, columns).CopyTo(new Span<float>(tile + r * nr, columns));
            }
        }

        TKernel.Run(rows, panelA, panelB, nr, kc, tile, nr, loadC);

        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(tile + r * nr, columns).CopyTo(new Span<float>(c + (long)r * ldc, columns));
        }
    }
}
