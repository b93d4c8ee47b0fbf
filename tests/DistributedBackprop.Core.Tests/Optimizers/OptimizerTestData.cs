using System.Runtime.InteropServices;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Optimizers;

/// <summary>Layouts, settings and vectors shared by the optimizer tests.</summary>
internal static class OptimizerTestData
{
    /// <summary>The configurations every optimizer test runs over, by name.</summary>
    public static TheoryData<string> ConfigurationNames =>
    [
        "Sgd", "SgdWeightDecay", "Momentum", "MomentumWeightDecay", "Nesterov", "NesterovWeightDecay",
        "RmsProp", "RmsPropCentered", "RmsPropMomentum", "RmsPropCenteredMomentumWeightDecay",
        "Adam", "AdamWeightDecay", "AdamW",
    ];

    public static OptimizerSettings Configuration(string name) => name switch
    {
        "Sgd" => new(OptimizerKind.Sgd),
        "SgdWeightDecay" => new(OptimizerKind.Sgd) { WeightDecay = 0.05f },
        "Momentum" => new(OptimizerKind.Momentum),
        "MomentumWeightDecay" => new(OptimizerKind.Momentum) { Momentum = 0.8f, WeightDecay = 0.05f },
        "Nesterov" => new(OptimizerKind.Nesterov),
        "NesterovWeightDecay" => new(OptimizerKind.Nesterov) { WeightDecay = 0.05f },
        "RmsProp" => new(OptimizerKind.RmsProp),
        "RmsPropCentered" => new(OptimizerKind.RmsProp) { Centered = true },
        "RmsPropMomentum" => new(OptimizerKind.RmsProp) { Momentum = 0.9f, Rho = 0.9f },
        "RmsPropCenteredMomentumWeightDecay" =>
            new(OptimizerKind.RmsProp) { Centered = true, Momentum = 0.5f, WeightDecay = 0.05f },
        "Adam" => new(OptimizerKind.Adam),
        "AdamWeightDecay" => new(OptimizerKind.Adam) { WeightDecay = 0.05f },
        "AdamW" => new(OptimizerKind.AdamW) { WeightDecay = 0.1f },
        _ => throw new ArgumentException($"Unknown configuration {name}.", nameof(name)),
    };

    /// <summary>A small layout with every kind of segment: weight (3, 4), bias (5), running mean (3).</summary>
    public static ParameterLayout Small()
    {
        var builder = new ParameterLayoutBuilder();
        builder.Add("weight", ParameterKind.Weight, 3, 4);
        builder.Add("bias", ParameterKind.Bias, 5);
        builder.Add("runningMean", ParameterKind.RunningStatistic, 0.1f, 3);
        return builder.Build();
    }

    /// <summary>5000 elements in segments of every kind, with boundaries at odd places.</summary>
    public static ParameterLayout Mixed()
    {
        var builder = new ParameterLayoutBuilder();
        builder.Add("dense0.weight", ParameterKind.Weight, 29, 23);
        builder.Add("dense0.bias", ParameterKind.Bias, 29);
        builder.Add("norm0.runningMean", ParameterKind.RunningStatistic, 0.1f, 13);
        builder.Add("norm0.runningVariance", ParameterKind.RunningStatistic, 0.01f, 13);
        builder.Add("dense1.weight", ParameterKind.Weight, 51, 61);
        builder.Add("dense1.bias", ParameterKind.Bias, 1);
        builder.Add("dense2.weight", ParameterKind.Weight, 1000 - 29 * 23 - 29 - 26 - 51 * 61 - 1 + 3000);
        builder.Add("dense2.bias", ParameterKind.Bias, 1000);
        var layout = builder.Build();
        Assert.Equal(5000, layout.Count);
        return layout;
    }

    /// <summary>Gaussian values times <paramref name="scale"/>, from a fixed seed and stream.</summary>
    public static float[] Gaussian(int length, ulong stream, float scale = 1f)
    {
        var rng = new DeterministicRandom(20240611, stream);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(rng.NextGaussian() * scale);
        }

        return values;
    }

    /// <summary>Bit patterns, so that assertions compare floats bit for bit.</summary>
    public static int[] Bits(ReadOnlySpan<float> values) => MemoryMarshal.Cast<float, int>(values).ToArray();
}
