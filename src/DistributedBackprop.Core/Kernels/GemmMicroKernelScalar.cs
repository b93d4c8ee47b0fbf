namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Portable micro-kernel for hardware without usable SIMD: a 4×4 tile accumulated in plain float
/// multiply-then-add (not fused, which would be emulated in software where FMA is missing).
/// </summary>
internal readonly struct GemmMicroKernelScalar : IGemmMicroKernel
{
    private const int Mr = 4;
    private const int Nr = 4;

    public static int RowTile => Mr;

    public static int ColumnTile => Nr;

    public static int DepthBlock => 256;

    public static int RowBlock => Mr * 32;

    public static bool UsesVectorPacking => false;

    public static int ColumnBlock => Nr * 256;

    public static unsafe void Run(
        int rows,
        float* packedA,
        float* b,
        int ldb,
        int kc,
        float* c,
        int ldc,
        bool loadC)
    {
        // accumulators: (Mr, Nr), row-major
        float* acc = stackalloc float[Mr * Nr];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < Nr; j++)
            {
                acc[r * Nr + j] = loadC ? c[r * ldc + j] : 0f;
            }
        }

        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                float a = packedA[r];
                for (int j = 0; j < Nr; j++)
                {
                    acc[r * Nr + j] += a * b[j];
                }
            }

            packedA += Mr;
            b += ldb;
        }

        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < Nr; j++)
            {
                c[r * ldc + j] = acc[r * Nr + j];
            }
        }
    }
}
