using DistributedBackprop.Core.Layers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests;

/// <summary>
/// Checks a layer's analytic gradients against central finite differences. The scalar objective is
/// L = Σ output ⊙ probe for a fixed random probe, so dL/doutput = probe; differences are taken in float
/// and compared with a relative error that is robust near zero: |a - n| / max(|a| + |n|, floor).
/// </summary>
internal static partial class GradientCheck
{
    /// <param name="MaxForwardError">With a double reference: max |output - reference| / (1 + |reference|).</param>
    public sealed record Result(
        double MaxInputError,
        double MaxParameterError,
        int Checked,
        double MaxForwardError = 0);

    /// <summary>A double-precision forward of the same function: (input, parameters) → output, flat.</summary>
    public delegate double[] DoubleForward(double[] input, double[] parameters);

    /// <summary>Builds the layer for <paramref name="sampleShape"/>, initialises it and checks it.</summary>
    /// <param name="epsilon">Finite-difference step. A layer linear in each input and parameter (dense, dropout)
    /// is differenced exactly by any step, so a large one there only reduces rounding noise.</param>
    /// <param name="doubleForward">
    /// When given, finite differences are taken on this double-precision forward (step 1e-4, noise ~1e-12)
    /// instead of the layer's float forward, whose rounding (~1e-7 per output) limits float differences to
    /// about 1e-5 absolute; the layer's own output is compared with it as <see cref="Result.MaxForwardError"/>.
    /// </param>
    /// <param name="prepareInput">Adjusts the random input, e.g. to keep it off a kink such as ReLU's at 0.</param>
    public static Result Check(
        Layer layer,
        int[] sampleShape,
        int batch,
        ulong seed = 1,
        float epsilon = 1e-2f,
        bool training = true,
        int maxChecksPerTensor = 64,
        Action<float[]>? prepareParameters = null,
        Action<Tensor>? prepareInput = null,
        DoubleForward? doubleForward = null)
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

        // Central difference over the step actually taken: saved ± ε rounds in float, so divide by the real gap.
        double Central(float[] values, int index, float step)
        {
            float saved = values[index];
            float up = saved + step;
            float down = saved - step;
            values[index] = up;
            double plus = Objective();
            values[index] = down;
            double minus = Objective();
            values[index] = saved;
            return (plus - minus) / ((double)up - down);
        }

        double[] inputInDouble = input.Span.ToArray().Select(v => (double)v).ToArray();
        double[] parametersInDouble = parameters.Select(v => (double)v).ToArray();
        double ReferenceDerivative(double[] values, int index)
        {
            const double Step = 1e-4;
            double saved = values[index];
            values[index] = saved + Step;
            double plus = Dot(doubleForward!(inputInDouble, parametersInDouble), probe);
            values[index] = saved - Step;
            double minus = Dot(doubleForward!(inputInDouble, parametersInDouble), probe);
            values[index] = saved;
            return (plus - minus) / (2 * Step);
        }

        double maxForward = 0;
        if (doubleForward is not null)
        {
            var layerOutput = layer.Forward(input, context);
            var reference = doubleForward(inputInDouble, parametersInDouble);
            for (int i = 0; i < reference.Length; i++)
            {
                double error = Math.Abs(layerOutput[i] - reference[i]) / (1 + Math.Abs(reference[i]));
                maxForward = Math.Max(maxForward, error);
            }
        }

        double maxInput = 0;
        int checkedCount = 0;
        foreach (int i in Pick(input.Length, maxChecksPerTensor, rng))
        {
            double numeric = doubleForward is null
                ? Central(input.Data, input.Offset + i, epsilon)
                : ReferenceDerivative(inputInDouble, i);
            maxInput = Math.Max(maxInput, RelativeError(inputGradientCopy[i], numeric));
            checkedCount++;
        }

        double maxParameter = 0;
        foreach (var segment in layout.Segments.Where(s => s.IsTrained))
        {
            foreach (int j in Pick(segment.Length, maxChecksPerTensor, rng))
            {
                int i = segment.Offset + j;
                double numeric = doubleForward is null
                    ? Central(parameters, i, epsilon)
                    : ReferenceDerivative(parametersInDouble, i);
                maxParameter = Math.Max(maxParameter, RelativeError(parameterGradients[i], numeric));
                checkedCount++;
            }
        }

        return new Result(maxInput, maxParameter, checkedCount, maxForward);
    }

    public static double RelativeError(double analytic, double numeric) =>
        Math.Abs(analytic - numeric) / Math.Max(Math.Abs(analytic) + Math.Abs(numeric), 1e-2);

    private static double Dot(double[] output, Tensor probe)
    {
        double sum = 0;
        for (int i = 0; i < output.Length; i++)
        {
            sum += output[i] * probe[i];
        }

        return sum;
    }

    private static IEnumerable<int> Pick(int length, int max, DeterministicRandom rng)
    {
        if (length <= max)
        {
            return Enumerable.Range(0, length);
        }

        return Enumerable.Range(0, max).Select(_ => rng.NextInt(length)).Distinct();
    }
}
