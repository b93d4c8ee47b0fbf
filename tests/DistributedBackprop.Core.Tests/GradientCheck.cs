using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests;

/// <summary>
/// Checks a layer's analytic gradients against central finite differences. The scalar objective is
/// L = Σ output ⊙ probe for a fixed random probe, so dL/doutput = probe; differences are taken in float
/// and compared with a relative error that is robust near zero: |a - n| / max(|a| + |n|, floor).
/// </summary>
internal static class GradientCheck
{
    public sealed record Result(double MaxInputError, double MaxParameterError, int Checked);

    /// <summary>Builds the layer for <paramref name="sampleShape"/>, initialises it from the seed and checks it.</summary>
    /// <param name="prepareInput">Adjusts the random input, e.g. to keep it away from a kink such as ReLU's at 0.</param>
    public static Result Check(
        Layer layer,
        int[] sampleShape,
        int batch,
        ulong seed = 1,
        float epsilon = 1e-2f,
        bool training = true,
        int maxChecksPerTensor = 64,
        Action<float[]>? prepareParameters = null,
        Action<Tensor>? prepareInput = null)
    {
        var builder = new ParameterLayoutBuilder();
        layer.Build(sampleShape, builder);
        var layout = builder.Build();
        var parameters = new float[layout.Count];
        var gradients = new float[layout.Count];
        layer.Bind(parameters, gradients);
        layer.Initialize(parameters, seed);
        prepareParameters?.Invoke(parameters);

        var rng = new DeterministicRandom(seed, 77);
        var input = new Tensor(ShapeUtil.WithBatch(batch, sampleShape));
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)rng.NextGaussian();
        }

        prepareInput?.Invoke(input);

        var context = new LayerContext { Training = training, Seed = seed, Step = 3, BatchFraction = 1f };
        context.SampleIds = Enumerable.Range(0, batch).ToArray();

        var output = layer.Forward(input, context);
        var probe = new Tensor(output.Shape.ToArray());
        for (int i = 0; i < probe.Length; i++)
        {
            probe[i] = (float)rng.NextGaussian();
        }

        var probeCopy = new Tensor(probe.Shape.ToArray());
        probe.Span.CopyTo(probeCopy.Span);
        var inputGradient = layer.Backward(probeCopy, context, needInputGradient: true)
            ?? throw new InvalidOperationException("Backward returned no input gradient.");
        var inputGradientCopy = inputGradient.Span.ToArray();
        var parameterGradients = gradients.ToArray();

        double Objective()
        {
            var o = layer.Forward(input, context);
            double sum = 0;
            for (int i = 0; i < o.Length; i++)
            {
                sum += (double)o[i] * probe[i];
            }

            return sum;
        }

        double maxInput = 0;
        int checkedCount = 0;
        foreach (int i in Pick(input.Length, maxChecksPerTensor, rng))
        {
            float saved = input[i];
            input[i] = saved + epsilon;
            double plus = Objective();
            input[i] = saved - epsilon;
            double minus = Objective();
            input[i] = saved;
            maxInput = Math.Max(maxInput, RelativeError(inputGradientCopy[i], (plus - minus) / (2 * epsilon)));
            checkedCount++;
        }

        double maxParameter = 0;
        foreach (var segment in layout.Segments.Where(s => s.IsTrained))
        {
            foreach (int j in Pick(segment.Length, maxChecksPerTensor, rng))
            {
                int i = segment.Offset + j;
                float saved = parameters[i];
                parameters[i] = saved + epsilon;
                double plus = Objective();
                parameters[i] = saved - epsilon;
                double minus = Objective();
                parameters[i] = saved;
                maxParameter = Math.Max(maxParameter, RelativeError(parameterGradients[i], (plus - minus) / (2 * epsilon)));
                checkedCount++;
            }
        }

        return new Result(maxInput, maxParameter, checkedCount);
    }

    public static double RelativeError(double analytic, double numeric) =>
        Math.Abs(analytic - numeric) / Math.Max(Math.Abs(analytic) + Math.Abs(numeric), 1e-2);

    private static IEnumerable<int> Pick(int length, int max, DeterministicRandom rng)
    {
        if (length <= max)
        {
            return Enumerable.Range(0, length);
        }

        return Enumerable.Range(0, max).Select(_ => rng.NextInt(length)).Distinct();
    }
}
