using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Tests.Layers;

/// <summary>
/// Straight-from-the-definition double-precision versions of the layers' math, written independently of the
/// layers (no im2col, no GEMM), for forward comparisons and double-precision gradient checks.
/// </summary>
internal static class DoubleReference
{
    /// <summary>An activation: values (batch, C, H, W) in row-major order.</summary>
    public sealed record Image(double[] Values, int Batch, int Channels, int Height, int Width);

    // input: (batch, C, H, W); weight: (F, C, k, k); bias: (F) → (batch, F, OH, OW)
    public static Image Convolution(
        Image input,
        ReadOnlySpan<double> weight,
        ReadOnlySpan<double> bias,
        int filters,
        int kernel,
        int stride,
        int padding)
    {
        int outHeight = (input.Height + 2 * padding - kernel) / stride + 1;
        int outWidth = (input.Width + 2 * padding - kernel) / stride + 1;
        var output = new double[input.Batch * filters * outHeight * outWidth];
        int o = 0;
        for (int b = 0; b < input.Batch; b++)
        {
            for (int f = 0; f < filters; f++)
            {
                for (int oh = 0; oh < outHeight; oh++)
                {
                    for (int ow = 0; ow < outWidth; ow++)
                    {
                        double sum = bias[f];
                        for (int c = 0; c < input.Channels; c++)
                        {
                            for (int i = 0; i < kernel; i++)
                            {
                                for (int j = 0; j < kernel; j++)
                                {
                                    int y = oh * stride - padding + i;
                                    int x = ow * stride - padding + j;
                                    if (y >= 0 && y < input.Height && x >= 0 && x < input.Width)
                                    {
                                        int pixel = ((b * input.Channels + c) * input.Height + y) * input.Width + x;
                                        sum += weight[((f * input.Channels + c) * kernel + i) * kernel + j]
                                            * input.Values[pixel];
                                    }
                                }
                            }
                        }

                        output[o++] = sum;
                    }
                }
            }
        }

        return new Image(output, input.Batch, filters, outHeight, outWidth);
    }

    // Training-mode batch normalisation per channel over batch·H·W, biased variance.
    public static Image BatchNormTraining(
        Image input, ReadOnlySpan<double> gamma, ReadOnlySpan<double> beta, double epsilon = 1e-5)
    {
        int plane = input.Height * input.Width;
        var output = new double[input.Values.Length];
        for (int c = 0; c < input.Channels; c++)
        {
            var values = new List<int>();
            for (int b = 0; b < input.Batch; b++)
            {
                for (int s = 0; s < plane; s++)
                {
                    values.Add((b * input.Channels + c) * plane + s);
                }
            }

            double mean = values.Average(i => input.Values[i]);
            double variance = values.Average(i => (input.Values[i] - mean) * (input.Values[i] - mean));
            foreach (int i in values)
            {
                output[i] = gamma[c] * (input.Values[i] - mean) / Math.Sqrt(variance + epsilon) + beta[c];
            }
        }

        return input with { Values = output };
    }

    public static Image Relu(Image input) => input with { Values = input.Values.Select(v => Math.Max(0, v)).ToArray() };

    public static Image Add(Image x, Image y) => x with { Values = x.Values.Zip(y.Values, (a, b) => a + b).ToArray() };

    /// <summary>ResidualBlock.Basic(inChannels, filters, stride), parameters looked up by name.</summary>
    public static double[] BasicBlock(
        ParameterLayout layout, double[] parameters, Image input, int filters, int stride, bool projection)
    {
        ReadOnlySpan<double> P(string name) => parameters.AsSpan(layout[name].Offset, layout[name].Length);

        var body = Convolution(input, P("body.0.weight"), P("body.0.bias"), filters, 3, stride, 1);
        body = Relu(BatchNormTraining(body, P("body.1.gamma"), P("body.1.beta")));
        body = Convolution(body, P("body.3.weight"), P("body.3.bias"), filters, 3, 1, 1);
        body = BatchNormTraining(body, P("body.4.gamma"), P("body.4.beta"));

        var skip = input;
        if (projection)
        {
            skip = Convolution(input, P("projection.0.weight"), P("projection.0.bias"), filters, 1, stride, 0);
            skip = BatchNormTraining(skip, P("projection.1.gamma"), P("projection.1.beta"));
        }

        return Relu(Add(body, skip)).Values;
    }
}
