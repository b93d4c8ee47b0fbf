namespace DistributedBackprop.Core.Kernels;

/// <summary>Whether a GEMM operand is read as stored or transposed.</summary>
public enum Transpose
{
    No,
    Yes,
}

/// <summary>
/// Single-precision matrix multiply on contiguous row-major matrices:
/// <c>C (m×n) = op(A) · op(B) [+ C]</c>, where <c>op(A)</c> is (m×k) and <c>op(B)</c> is (k×n).
/// </summary>
/// <remarks>
/// Storage: A is (m×k) row-major, or (k×m) when <paramref name="transposeA"/> is Yes; B is (k×n), or (n×k)
/// when transposed; C is (m×n). Work is split across threads over output blocks only, never over k, so the
/// result is bit-identical for any thread count.
/// </remarks>
public static partial class Gemm
{
    /// <summary>Computes C = op(A)·op(B), or C += op(A)·op(B) when <paramref name="accumulate"/> is true.</summary>
    /// <param name="threads">Upper bound on threads used; 1 runs on the calling thread.</param>
    public static void Multiply(
        Transpose transposeA,
        Transpose transposeB,
        int m,
        int n,
        int k,
        ReadOnlySpan<float> a,
        ReadOnlySpan<float> b,
        Span<float> c,
        bool accumulate = false,
        int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
        {
            throw new ArgumentException(
                $"GEMM operands too small for m={m}, n={n}, k={k}: a={a.Length}, b={b.Length}, c={c.Length}.");
        }

        GemmKernel.Multiply(
            GemmIsaDetection.Best, transposeA, transposeB, m, n, k, a, b, c, accumulate, Math.Max(1, threads));
    }

    /// <summary>
    /// The micro-tile (rows, columns) of C this machine's kernel computes at once: C is padded to whole tiles,
    /// so a caller splitting a product by rows or choosing between C and Cᵀ can avoid computing padding.
    /// </summary>
    public static (int Rows, int Columns) TileShape => GemmKernel.TileShape(GemmIsaDetection.Best);

    /// <summary>
    /// Plain triple loop, accumulating each output element over k in ascending order.
    /// The oracle for the vectorized kernel's tests and the fallback on hardware without SIMD.
    /// </summary>
    public static void MultiplyReference(
        Transpose transposeA,
        Transpose transposeB,
        int m,
        int n,
        int k,
        ReadOnlySpan<float> a,
        ReadOnlySpan<float> b,
        Span<float> c,
        bool accumulate = false)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA == Transpose.No ? a[i * k + p] : a[p * m + i];
                    float bv = transposeB == Transpose.No ? b[p * n + j] : b[j * k + p];
                    sum += av * bv;
                }

                c[i * n + j] = accumulate ? c[i * n + j] + sum : sum;
            }
        }
    }
}
