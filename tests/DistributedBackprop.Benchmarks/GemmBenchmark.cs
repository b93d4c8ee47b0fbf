using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// GEMM GFLOP/s next to the FMA peak: square 512³ and 1024³, then the shapes an MLP with batch 128 and
/// layers 784→256 and 256→784 multiplies: forward Y = X·Wᵀ (No, Yes), input gradient dX = dY·W (No, No) and
/// weight gradient dW = dYᵀ·X (Yes, No); then the 784→256 shapes again for batches of 16, 32 and 64.
/// </summary>
internal sealed class GemmBenchmark : IBenchmark
{
    private const int Batch = 128;

    private static readonly int[] SkinnyBatches = [16, 32, 64];

    public string Name => "gemm";

    public void Run(BenchmarkContext context)
    {
        var cases = new List<(string Case, Transpose A, Transpose B, int M, int N, int K)>
        {
            ("square", Transpose.No, Transpose.No, 512, 512, 512),
            ("square", Transpose.No, Transpose.No, 1024, 1024, 1024),
        };
        foreach (var (inFeatures, outFeatures) in new[] { (784, 256), (256, 784) })
        {
            string layer = $"{inFeatures}->{outFeatures}";
            cases.Add(($"fwd {layer}", Transpose.No, Transpose.Yes, Batch, outFeatures, inFeatures));
            cases.Add(($"dX {layer}", Transpose.No, Transpose.No, Batch, inFeatures, outFeatures));
            cases.Add(($"dW {layer}", Transpose.Yes, Transpose.No, outFeatures, inFeatures, Batch));
        }

        // Small micro-batches (16-64 rows) give skinny shapes; they must not fall off a cliff.
        foreach (int batch in SkinnyBatches)
        {
            cases.Add(($"fwd 784->256 b{batch}", Transpose.No, Transpose.Yes, batch, 256, 784));
            cases.Add(($"dX 784->256 b{batch}", Transpose.No, Transpose.No, batch, 784, 256));
            cases.Add(($"dW 784->256 b{batch}", Transpose.Yes, Transpose.No, 256, 784, batch));
        }

        foreach (var (name, transposeA, transposeB, m, n, k) in cases)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                double gflops = Measure(transposeA, transposeB, m, n, k, threads);
                double peak = context.PeakGflops(threads);
                context.Report(
                    Name,
                    new("case", name),
                    new("m", m),
                    new("n", n),
                    new("k", k),
                    new("transposeA", transposeA == Transpose.Yes),
                    new("transposeB", transposeB == Transpose.Yes),
                    new("threads", threads),
                    new("gflops", gflops),
                    new("peakGflops", peak),
                    new("percentOfPeak", 100.0 * gflops / peak));
            }
        }
    }

    private static double Measure(Transpose transposeA, Transpose transposeB, int m, int n, int k, int threads)
    {
        var a = Fill(m * k, 0.5f);
        var b = Fill(k * n, 0.25f);
        var c = new float[m * n];
        double seconds = Timing.MedianSeconds(
            () => Gemm.Multiply(transposeA, transposeB, m, n, k, a, b, c, threads: threads));
        return 2.0 * m * n * k / seconds / 1e9;
    }

    // Values in [-scale, scale) from a fixed pattern; the speed of FMA does not depend on them.
    private static float[] Fill(int length, float scale)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = scale * ((i * 37 % 101) / 50.5f - 1f);
        }

        return values;
    }
}
