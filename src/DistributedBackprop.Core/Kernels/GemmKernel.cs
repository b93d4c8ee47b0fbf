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

    private static void Run<TKernel>(in GemmProblem problem, int threads)
        where TKernel : struct, IGemmMicroKernel
    {
        var plan = GemmPlan.Create(
            problem.M, problem.N, problem.K, TKernel.RowTile, TKernel.ColumnTile, threads);
        if (plan.TaskCount == 1)
        {
            RunBlock<TKernel>(problem, 0, problem.M, 0, problem.N);
            return;
        }

        GemmWorkerPool.Shared.Run(problem, plan, &RunTask<TKernel>, threads);
    }

    private static void RunTask<TKernel>(in GemmProblem problem, in GemmPlan plan, int task)
        where TKernel : struct, IGemmMicroKernel
    {
        int start = task * plan.Chunk;
        if (plan.SplitColumns)
        {
            RunBlock<TKernel>(problem, 0, problem.M, start, Math.Min(problem.N, start + plan.Chunk));
        }
        else
        {
            RunBlock<TKernel>(problem, start, Math.Min(problem.M, start + plan.Chunk), 0, problem.N);
        }
    }

    // Computes C[rowStart..rowEnd, columnStart..columnEnd) on the calling thread.
    private static void RunBlock<TKernel>(
        in GemmProblem problem,
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

        // Equal KC slices: 784 becomes 4 × 196 rather than 3 × 256 + 16, whose last slice would spend more
        // on loading and storing C than on arithmetic.
        int slices = (k + TKernel.DepthBlock - 1) / TKernel.DepthBlock;
        int depthBlock = (k + slices - 1) / slices;
        int columnBlock = Math.Min(TKernel.ColumnBlock, RoundUp(columnEnd - columnStart, nr));
        int rowBlock = Math.Min(TKernel.RowBlock, RoundUp(rowEnd - rowStart, mr));

        var workspace = GemmWorkspace.Current;
        float* packedA = workspace.PackedA(rowBlock * depthBlock);
        float* packedB = workspace.PackedB(depthBlock * columnBlock);
        float* tile = workspace.Tile(mr * nr);

        for (int jc = columnStart; jc < columnEnd; jc += columnBlock)
        {
            int nc = Math.Min(columnBlock, columnEnd - jc);
            for (int pc = 0; pc < k; pc += depthBlock)
            {
                int kc = Math.Min(depthBlock, k - pc);
                bool loadC = problem.Accumulate || pc > 0;
                GemmPacking.PackB<TKernel>(problem, jc, nc, pc, kc, packedB);

                for (int ic = rowStart; ic < rowEnd; ic += rowBlock)
                {
                    int mc = Math.Min(rowBlock, rowEnd - ic);
                    GemmPacking.PackA<TKernel>(problem, ic, mc, pc, kc, packedA);

                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int columns = Math.Min(nr, nc - jr);
                        float* panelB = packedB + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* panelA = packedA + (long)ir * kc;
                            float* c = problem.C + (long)(ic + ir) * n + jc + jr;
                            if (columns == nr)
                            {
                                TKernel.Run(rows, panelA, panelB, kc, c, n, loadC);
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

        TKernel.Run(rows, panelA, panelB, kc, tile, nr, loadC);

        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(tile + r * nr, columns).CopyTo(new Span<float>(c + (long)r * ldc, columns));
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
