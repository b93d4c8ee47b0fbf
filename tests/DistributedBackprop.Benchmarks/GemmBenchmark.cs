using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Benchmarks;

/// <summary>
/// GEMM GFLOP/s next to the FMA peak: square 512³ and 1024³, then the shapes an MLP with batch 128 and
/// layers 784→256 and 256→784 multiplies: forward Y = X·Wᵀ (No, Yes), input gradient dX = dY·W (No, No) and
/// weight gradient dW = dYᵀ·X (Yes, No); then the 784→256 shapes again for batches of 16, 32 and 64; then
/// (batch × 784 × 256) for batches 16 to 128 and 128 × 256 × 784 in the three transpose variants AB, AᵀB
/// and ABᵀ.
/// </summary>
/// <remarks>
/// Each figure is the median of seven samples paired with runs of the FMA loop (see <see cref="PairedPeak"/>):
/// percentOfPairedPeak is the figure to compare across runs; peakGflops and percentOfPeak refer to the peak
/// measured once at the start, as before. Rows for 2 threads add the speed-up over 1 thread beside the FMA
/// loop's own speed-up, which bounds it.
/// </remarks>
internal sealed class GemmBenchmark : IBenchmark
{
    private const int Batch = 128;

    private static readonly int[] SkinnyBatches = [16, 32, 64];

    private static readonly int[] SweepBatches = [16, 32, 64, 128];

    public string Name => "gemm";

    public void Run(BenchmarkContext context)
    {
        foreach (var (name, transposeA, transposeB, m, n, k) in Cases())
        {
            PairedFigure single = default;
            foreach (int threads in new[] { 1, 2 })
            {
                var figure = Measure(transposeA, transposeB, m, n, k, threads);
                double peak = context.PeakGflops(threads);
                var fields = new List<KeyValuePair<string, object>>
                {
                    new("case", name),
                    new("m", m),
                    new("n", n),
                    new("k", k),
                    new("transposeA", transposeA == Transpose.Yes),
                    new("transposeB", transposeB == Transpose.Yes),
                    new("threads", threads),
                    new("gflops", figure.Gflops),
                    new("peakGflops", peak),
                    new("percentOfPeak", 100.0 * figure.Gflops / peak),
                    new("pairedPeakGflops", figure.PeakGflops),
                    new("percentOfPairedPeak", figure.PercentOfPeak),
                };
                if (threads == 1)
                {
                    single = figure;
                }
                else
                {
                    fields.Add(new("speedupOver1Thread", figure.Gflops / single.Gflops));
                    fields.Add(new("peakSpeedupOver1Thread", figure.PeakGflops / single.PeakGflops));
                }

                context.Report(Name, [.. fields]);
            }
        }
    }

    private static List<(string Case, Transpose A, Transpose B, int M, int N, int K)> Cases()
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

        // One shape in every transpose variant: packing differs per variant, the micro-kernel does not.
        var shapes = SweepBatches.Select(batch => (M: batch, N: 784, K: 256)).Append((M: Batch, N: 256, K: 784));
        foreach (var (m, n, k) in shapes)
        {
            cases.Add(($"AB {m}x{n}x{k}", Transpose.No, Transpose.No, m, n, k));
            cases.Add(($"AtB {m}x{n}x{k}", Transpose.Yes, Transpose.No, m, n, k));
            cases.Add(($"ABt {m}x{n}x{k}", Transpose.No, Transpose.Yes, m, n, k));
        }

        return cases;
    }

    private static PairedFigure Measure(Transpose transposeA, Transpose transposeB, int m, int n, int k, int threads)
    {
        var a = Fill(m * k, 0.5f);
        var b = Fill(k * n, 0.25f);
        var c = new float[m * n];
        return PairedPeak.Measure(
            threads,
            2.0 * m * n * k,
            () => Gemm.Multiply(transposeA, transposeB, m, n, k, a, b, c, threads: threads));
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
