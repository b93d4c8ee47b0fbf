namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// One GEMM call as raw pointers, valid while the caller keeps its spans pinned; shared read-only by the
/// threads that compute disjoint blocks of C.
/// </summary>
// a: (m, k) or (k, m) when TransposeA; b: (k, n) or (n, k) when TransposeB; c: (m, n)
internal readonly unsafe struct GemmProblem(
    Transpose transposeA,
    Transpose transposeB,
    int m,
    int n,
    int k,
    float* a,
    float* b,
    float* c,
    bool accumulate)
{
    public Transpose TransposeA { get; } = transposeA;

    public Transpose TransposeB { get; } = transposeB;

    public int M { get; } = m;

    public int N { get; } = n;

    public int K { get; } = k;

    public float* A { get; } = a;

    public float* B { get; } = b;

    public float* C { get; } = c;

    public bool Accumulate { get; } = accumulate;
}
