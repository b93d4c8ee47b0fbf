namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// A register-blocked micro-kernel and the block sizes that suit it. The driver is generic over this
/// interface, so each instruction set gets its own specialised copy of the blocking loops.
/// </summary>
/// <remarks>
/// Contract shared by every kernel, which is what makes results independent of blocking and threads:
/// each C element is one chain of multiply-adds over k in ascending order, started from 0 or from C.
/// </remarks>
internal interface IGemmMicroKernel
{
    /// <summary>MR: rows of C per tile, and the stride of a packed A micro-panel.</summary>
    static abstract int RowTile { get; }

    /// <summary>NR: columns of C per tile, and the stride of a packed B micro-panel.</summary>
    static abstract int ColumnTile { get; }

    /// <summary>KC: deepest packed block; a B micro-panel (KC×NR) should stay in L1 or close to it.</summary>
    static abstract int DepthBlock { get; }

    /// <summary>MC: rows of a packed A block (MC×KC), sized for L2; a multiple of MR.</summary>
    static abstract int RowBlock { get; }

    /// <summary>NC: columns of a packed B block (KC×NC); a multiple of NR.</summary>
    static abstract int ColumnBlock { get; }

    /// <summary>
    /// Whether packing may use AVX transposes; the portable kernel packs with scalar code so that its tests
    /// exercise the path hardware without SIMD would run.
    /// </summary>
    static abstract bool UsesVectorPacking { get; }

    /// <summary>
    /// C[0..rows, 0..NR) = (loadC ? C : 0) + Σp packedA[p·MR + r] · b[p·ldb + j], for p ascending.
    /// </summary>
    /// <remarks>
    /// b is a packed B micro-panel (ldb = NR) or, for products with few rows, op(B) read in place (ldb = n),
    /// which saves packing a B that would be used only once or twice.
    /// </remarks>
    // packedA: (kc, MR) with rows ≥ rows unused; b: (kc, NR) at row stride ldb; c: rows × NR at row stride ldc.
    static abstract unsafe void Run(
        int rows,
        float* packedA,
        float* b,
        int ldb,
        int kc,
        float* c,
        int ldc,
        bool loadC);
}
