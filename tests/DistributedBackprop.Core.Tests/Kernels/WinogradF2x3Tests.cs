using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Tests.Kernels;

/// <summary>
/// The F(2×2, 3×3) transforms around the 16 GEMMs, against direct 3×3 convolution and its two gradients computed
/// in double precision by plain loops.
/// </summary>
public sealed class WinogradF2x3Tests
{
    public static TheoryData<int, int, int, int, int, int> Geometries => new()
    {
        // batch, channels, height, width, filters, padding
        { 2, 3, 14, 14, 5, 1 },   // 7 tiles a row: one partly used group of lanes
        { 1, 2, 7, 5, 3, 0 },     // odd output height and width
        { 3, 5, 9, 11, 4, 1 },
        { 1, 4, 28, 28, 2, 1 },   // 14 tiles a row: a full and a partial group of lanes
        { 2, 1, 3, 3, 2, 0 },     // a single output element
        { 1, 2, 6, 20, 3, 2 },    // padding wider than the kernel's reach
        { 1, 3, 4, 34, 2, 1 },    // 17 tiles a row: a group of lanes with one tile
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardAndGradients_MatchDirectConvolution(
        int batch, int channels, int height, int width, int filters, int padding)
    {
        if (!WinogradF2x3.IsSupported)
        {
            return; // Conv2D keeps im2col and GEMM on machines without AVX.
        }

        var geometry = new ConvGeometry(channels, height, width, 3, 1, padding);
        var random = new Random(height * 31 + width);
        var input = Random(random, batch * geometry.ImageLength);
        var weight = Random(random, filters * channels * 9);
        var bias = Random(random, filters);
        int outLength = filters * geometry.OutHeight * geometry.OutWidth;
        var outputGradient = Random(random, batch * outLength);

        int perImage = WinogradF2x3.TilesPerImage(geometry);
        int tiles = batch * perImage;
        var scratch = new float[WinogradF2x3.ScratchLength(geometry)];
        var u = new float[16 * filters * channels];
        var v = new float[16 * channels * tiles + 8];
        var m = new float[16 * filters * tiles + 8];
        WinogradF2x3.TransformWeights(weight, filters, channels, u);
        for (int b = 0; b < batch; b++)
        {
            WinogradF2x3.TransformInput(
                geometry, input.AsSpan(b * geometry.ImageLength, geometry.ImageLength), v, tiles, b * perImage, scratch);
        }

        for (int x = 0; x < 16; x++)
        {
            Gemm.Multiply(
                Transpose.No, Transpose.No, filters, tiles, channels,
                u.AsSpan(x * filters * channels), v.AsSpan(x * channels * tiles), m.AsSpan(x * filters * tiles));
        }

        var output = new float[batch * outLength];
        for (int b = 0; b < batch; b++)
        {
            WinogradF2x3.InverseOutput(
                geometry, filters, m, tiles, b * perImage, bias, output.AsSpan(b * outLength, outLength));
        }

        // Backward: dM, then dU = dM·Vᵀ → dW and dV = Uᵀ·dM → dX.
        var dm = new float[16 * filters * tiles + 8];
        for (int b = 0; b < batch; b++)
        {
            WinogradF2x3.TransformOutputGradient(
                geometry, filters, outputGradient.AsSpan(b * outLength, outLength), dm, tiles, b * perImage, scratch);
        }

        var du = new float[16 * filters * channels];
        var dv = new float[16 * channels * tiles + 8];
        for (int x = 0; x < 16; x++)
        {
            Gemm.Multiply(
                Transpose.No, Transpose.Yes, filters, channels, tiles,
                dm.AsSpan(x * filters * tiles), v.AsSpan(x * channels * tiles), du.AsSpan(x * filters * channels));
            Gemm.Multiply(
                Transpose.Yes, Transpose.No, channels, tiles, filters,
                u.AsSpan(x * filters * channels), dm.AsSpan(x * filters * tiles), dv.AsSpan(x * channels * tiles));
        }

        var weightGradient = new float[weight.Length];
        WinogradF2x3.WeightGradient(du, filters, channels, weightGradient);
        var inputGradient = new float[input.Length];
        Array.Fill(inputGradient, float.NaN);
        for (int b = 0; b < batch; b++)
        {
            WinogradF2x3.InverseInput(
                geometry, dv, tiles, b * perImage,
                inputGradient.AsSpan(b * geometry.ImageLength, geometry.ImageLength), scratch);
        }

        var (expectedOutput, expectedInput, expectedWeight) =
            Direct(geometry, batch, filters, input, weight, bias, outputGradient);
        AssertClose(expectedOutput, output, "output");
        AssertClose(expectedInput, inputGradient, "input gradient");
        AssertClose(expectedWeight, weightGradient, "weight gradient");
    }

    // An image's transform may write whole vectors past its last tile into the next image's tiles (the next
    // image's transform, run after it, overwrites them), never before its first tile, and never past the end of
    // a row of V when it is the group's last image.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TransformInput_WritesNothingBeforeItsTilesNorPastTheGroup(int index)
    {
        if (!WinogradF2x3.IsSupported)
        {
            return; // Conv2D keeps im2col and GEMM on machines without AVX.
        }

        var geometry = new ConvGeometry(2, 14, 14, 3, 1, 1);
        int perImage = WinogradF2x3.TilesPerImage(geometry);
        int tiles = 3 * perImage;
        var v = new float[16 * 2 * tiles + 8];
        Array.Fill(v, 7f);
        var image = Random(new Random(3), geometry.ImageLength);

        WinogradF2x3.TransformInput(
            geometry, image, v, tiles, index * perImage, new float[WinogradF2x3.ScratchLength(geometry)]);

        for (int row = 0; row < 32; row++)
        {
            for (int t = 0; t < index * perImage; t++)
            {
                Assert.True(v[row * tiles + t] == 7f, $"row {row} tile {t} (before the image) was written");
            }
        }

        Assert.All(v[^8..], value => Assert.Equal(7f, value));
    }

    private static (double[] Output, double[] Input, double[] Weight) Direct(
        ConvGeometry geometry,
        int batch,
        int filters,
        float[] input,
        float[] weight,
        float[] bias,
        float[] outputGradient)
    {
        int channels = geometry.Channels, height = geometry.Height, width = geometry.Width, p = geometry.Padding;
        int outHeight = geometry.OutHeight, outWidth = geometry.OutWidth;
        var output = new double[batch * filters * outHeight * outWidth];
        var inputGradient = new double[input.Length];
        var weightGradient = new double[weight.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int f = 0; f < filters; f++)
            {
                for (int y = 0; y < outHeight; y++)
                {
                    for (int x = 0; x < outWidth; x++)
                    {
                        int o = ((b * filters + f) * outHeight + y) * outWidth + x;
                        double sum = bias[f];
                        for (int c = 0; c < channels; c++)
                        {
                            for (int ky = 0; ky < 3; ky++)
                            {
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    int iy = y + ky - p, ix = x + kx - p;
                                    if (iy < 0 || iy >= height || ix < 0 || ix >= width)
                                    {
                                        continue;
                                    }

                                    int i = ((b * channels + c) * height + iy) * width + ix;
                                    int w = ((f * channels + c) * 3 + ky) * 3 + kx;
                                    sum += (double)input[i] * weight[w];
                                    inputGradient[i] += (double)outputGradient[o] * weight[w];
                                    weightGradient[w] += (double)outputGradient[o] * input[i];
                                }
                            }
                        }

                        output[o] = sum;
                    }
                }
            }
        }

        return (output, inputGradient, weightGradient);
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(
                Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + scale),
                $"{what}[{i}] = {actual[i]}, direct convolution gives {expected[i]}");
        }
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }
}
