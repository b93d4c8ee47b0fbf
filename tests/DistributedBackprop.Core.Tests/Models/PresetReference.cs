using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tests.Layers;
using static DistributedBackprop.Core.Tests.Layers.DoubleReference;

namespace DistributedBackprop.Core.Tests.Models;

/// <summary>
/// A double-precision interpreter of model specs, written from the definitions (no GEMM, no im2col), that reads
/// parameters by segment name from a flat vector: the reference for whole-model gradient checks. Training mode
/// (BatchNorm with batch statistics); dropout is not supported.
/// </summary>
internal static class PresetReference
{
    /// <summary>Mean softmax cross-entropy of the batch.</summary>
    public static double Loss(ModelSpec spec, ParameterLayout layout, double[] parameters, Image input, int[] labels)
    {
        var x = input;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            x = Apply(spec.Layers[i], $"layers.{i}", layout, parameters, x);
        }

        double total = 0;
        int classes = x.Channels * x.Height * x.Width;
        for (int b = 0; b < x.Batch; b++)
        {
            var logits = x.Values.AsSpan(b * classes, classes);
            double max = double.NegativeInfinity;
            foreach (double v in logits)
            {
                max = Math.Max(max, v);
            }

            double sum = 0;
            foreach (double v in logits)
            {
                sum += Math.Exp(v - max);
            }

            total += max + Math.Log(sum) - logits[labels[b]];
        }

        return total / x.Batch;
    }

    private static Image Apply(LayerSpec layer, string prefix, ParameterLayout layout, double[] p, Image x)
    {
        ReadOnlySpan<double> P(string name)
        {
            var segment = layout[$"{prefix}.{name}"];
            return p.AsSpan(segment.Offset, segment.Length);
        }

        int filters = layer.Filters ?? 0;
        int stride = layer.Stride ?? 1;

        switch (layer.Type)
        {
            case "conv2d":
                int kernel = layer.KernelSize ?? 3;
                return Convolution(x, P("weight"), P("bias"), filters, kernel, stride, layer.Padding ?? 0);
            case "batchnorm":
                return BatchNormTraining(x, P("gamma"), P("beta"), layer.Epsilon ?? 1e-5);
            case "relu":
                return Relu(x);
            case "maxpool2d":
                return MaxPool(x, layer.Size ?? 2, layer.Stride ?? layer.Size ?? 2);
            case "flatten":
                return x with { Channels = x.Channels * x.Height * x.Width, Height = 1, Width = 1 };
            case "globalavgpool":
                return GlobalAverage(x);
            case "dense":
                return Dense(x, P("weight"), P("bias"), layer.Units!.Value);
            case "residual":
                bool projection = layout.Segments
                    .Any(s => s.Name.StartsWith($"{prefix}.projection.", StringComparison.Ordinal));
                var body = Convolution(x, P("body.0.weight"), P("body.0.bias"), filters, 3, stride, 1);
                body = Relu(BatchNormTraining(body, P("body.1.gamma"), P("body.1.beta")));
                body = Convolution(body, P("body.3.weight"), P("body.3.bias"), filters, 3, 1, 1);
                body = BatchNormTraining(body, P("body.4.gamma"), P("body.4.beta"));
                var skip = x;
                if (projection)
                {
                    skip = Convolution(x, P("projection.0.weight"), P("projection.0.bias"), filters, 1, stride, 0);
                    skip = BatchNormTraining(skip, P("projection.1.gamma"), P("projection.1.beta"));
                }

                return Relu(Add(body, skip));
            default:
                throw new NotSupportedException($"The reference does not implement {layer.Type}.");
        }
    }

    // input: (batch, in) as an image of in channels; weight: (out, in) → (batch, out).
    private static Image Dense(Image x, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, int units)
    {
        int inputs = x.Channels * x.Height * x.Width;
        var output = new double[x.Batch * units];
        for (int b = 0; b < x.Batch; b++)
        {
            for (int o = 0; o < units; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < inputs; i++)
                {
                    sum += weight[o * inputs + i] * x.Values[b * inputs + i];
                }

                output[b * units + o] = sum;
            }
        }

        return new Image(output, x.Batch, units, 1, 1);
    }

    private static Image MaxPool(Image x, int size, int stride)
    {
        int outHeight = (x.Height - size) / stride + 1;
        int outWidth = (x.Width - size) / stride + 1;
        var output = new double[x.Batch * x.Channels * outHeight * outWidth];
        int o = 0;
        for (int bc = 0; bc < x.Batch * x.Channels; bc++)
        {
            for (int oh = 0; oh < outHeight; oh++)
            {
                for (int ow = 0; ow < outWidth; ow++)
                {
                    double max = double.NegativeInfinity;
                    for (int i = 0; i < size; i++)
                    {
                        for (int j = 0; j < size; j++)
                        {
                            int row = (bc * x.Height) + (oh * stride) + i;
                            max = Math.Max(max, x.Values[(row * x.Width) + (ow * stride) + j]);
                        }
                    }

                    output[o++] = max;
                }
            }
        }

        return new Image(output, x.Batch, x.Channels, outHeight, outWidth);
    }

    private static Image GlobalAverage(Image x)
    {
        int plane = x.Height * x.Width;
        var output = new double[x.Batch * x.Channels];
        for (int bc = 0; bc < output.Length; bc++)
        {
            double sum = 0;
            for (int s = 0; s < plane; s++)
            {
                sum += x.Values[bc * plane + s];
            }

            output[bc] = sum / plane;
        }

        return new Image(output, x.Batch, x.Channels, 1, 1);
    }
}
