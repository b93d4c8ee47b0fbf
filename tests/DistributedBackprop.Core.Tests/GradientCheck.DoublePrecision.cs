using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests;

/// <summary>
/// The double-precision variant: for composite layers (several normalisations, ReLU kinks) float finite differences
/// are dominated by rounding inside the layer or cross a kink. Here the numeric derivatives come from an independent
/// double-precision implementation of the same math, with a tiny step, and are compared with the layer's analytic
/// float gradients. The reference's output is also compared with the layer's forward.
/// </summary>
internal static partial class GradientCheck
{
    /// <param name="MaxOutputError">Largest |float forward − double reference| over all outputs.</param>
    public sealed record ReferenceResult(
        double MaxOutputError, double MaxInputError, double MaxParameterError, int Checked);

    /// <param name="reference">
    /// (layout, input (batch, ...sampleShape), flat parameters) → output (batch, ...OutputShape), all in double.
    /// </param>
    public static ReferenceResult CheckAgainstReference(
        Layer layer,
        int[] sampleShape,
        int batch,
        Func<ParameterLayout, double[], double[], double[]> reference,
        ulong seed = 1,
        double epsilon = 1e-6,
        bool training = true,
        int maxChecksPerTensor = 64)
    {
        var builder = new ParameterLayoutBuilder();
        layer.Build(sampleShape, builder);
        var layout = builder.Build();
        var parameters = new float[layout.Count];
        var gradients = new float[layout.Count];
        layer.Bind(parameters, gradients);
        layer.Initialize(parameters, seed);

        var rng = new DeterministicRandom(seed, 77);
        var input = new Tensor(ShapeUtil.WithBatch(batch, sampleShape));
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)rng.NextGaussian();
        }

        var context = new LayerContext { Training = training, Seed = seed, Step = 3, BatchFraction = 1f };
        context.SampleIds = Enumerable.Range(0, batch).ToArray();
        var output = layer.Forward(input, context);
        var probe = new Tensor(output.Shape.ToArray());
        for (int i = 0; i < probe.Length; i++)
        {
            probe[i] = (float)rng.NextGaussian();
        }

        var inputValues = input.Span.ToArray().Select(v => (double)v).ToArray();
        var parameterValues = parameters.Select(v => (double)v).ToArray();
        var expected = reference(layout, inputValues, parameterValues);
        double maxOutput = 0;
        for (int i = 0; i < output.Length; i++)
        {
            maxOutput = Math.Max(maxOutput, Math.Abs(output[i] - expected[i]));
        }

        var probeCopy = new Tensor(probe.Shape.ToArray());
        probe.Span.CopyTo(probeCopy.Span);
        var inputGradient = layer.Backward(probeCopy, context, needInputGradient: true)
            ?? throw new InvalidOperationException("Backward returned no input gradient.");

        double Objective()
        {
            var o = reference(layout, inputValues, parameterValues);
            double sum = 0;
            for (int i = 0; i < o.Length; i++)
            {
                sum += o[i] * probe[i];
            }

            return sum;
        }

        double Difference(double[] values, int i)
        {
            double saved = values[i];
            values[i] = saved + epsilon;
            double plus = Objective();
            values[i] = saved - epsilon;
            double minus = Objective();
            values[i] = saved;
            return (plus - minus) / (2 * epsilon);
        }

        double maxInput = 0;
        int checkedCount = 0;
        foreach (int i in Pick(input.Length, maxChecksPerTensor, rng))
        {
            maxInput = Math.Max(maxInput, RelativeError(inputGradient[i], Difference(inputValues, i)));
            checkedCount++;
        }

        double maxParameter = 0;
        foreach (var segment in layout.Segments.Where(s => s.IsTrained))
        {
            foreach (int j in Pick(segment.Length, maxChecksPerTensor, rng))
            {
                int i = segment.Offset + j;
                maxParameter = Math.Max(maxParameter, RelativeError(gradients[i], Difference(parameterValues, i)));
                checkedCount++;
            }
        }

        return new ReferenceResult(maxOutput, maxInput, maxParameter, checkedCount);
    }
}
