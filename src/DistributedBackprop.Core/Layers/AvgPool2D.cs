using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Layers;

/// <summary>Mean over square windows of each channel, without padding.</summary>
public sealed class AvgPool2D : Pool2D
{
    /// <param name="size">Window height and width.</param>
    /// <param name="stride">Step between windows; defaults to <paramref name="size"/> (no overlap).</param>
    public AvgPool2D(int size, int? stride = null)
        : base("AvgPool2D", size, stride)
    {
    }

    public override string Type => "avgpool2d";

    private protected override void ForwardRange(int worker, int first, int end)
    {
        var g = Geometry;
        int planeLength = g.Height * g.Width;
        int outputLength = g.Channels * g.ColumnCount;
        float scale = 1f / (g.Kernel * g.Kernel);
        var input = Input!.Span;
        var output = Output!.Span;

        for (int b = first; b < end; b++)
        {
            var image = input.Slice(b * g.ImageLength, g.ImageLength);
            var pooled = output.Slice(b * outputLength, outputLength);
            int o = 0;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    {
                        int start = c * planeLength + oh * g.Stride * g.Width + ow * g.Stride;
                        float sum = 0f;
                        for (int i = 0; i < g.Kernel; i++)
                        {
                            var row = image.Slice(start + i * g.Width, g.Kernel);
                            foreach (float v in row)
                            {
                                sum += v;
                            }
                        }

                        pooled[o] = sum * scale;
                    }
                }
            }
        }
    }

    private protected override void BackwardRange(int worker, int first, int end)
    {
        var g = Geometry;
        int planeLength = g.Height * g.Width;
        int outputLength = g.Channels * g.ColumnCount;
        float scale = 1f / (g.Kernel * g.Kernel);
        var outputGradient = OutputGradient!.Span;
        var inputGradient = InputGradient!.Span;

        for (int b = first; b < end; b++)
        {
            var source = outputGradient.Slice(b * outputLength, outputLength);
            var target = inputGradient.Slice(b * g.ImageLength, g.ImageLength);
            target.Clear();
            int o = 0;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    {
                        int start = c * planeLength + oh * g.Stride * g.Width + ow * g.Stride;
                        float share = source[o] * scale;
                        for (int i = 0; i < g.Kernel; i++)
                        {
                            var row = target.Slice(start + i * g.Width, g.Kernel);
                            for (int j = 0; j < row.Length; j++)
                            {
                                row[j] += share;
                            }
                        }
                    }
                }
            }
        }
    }
}
