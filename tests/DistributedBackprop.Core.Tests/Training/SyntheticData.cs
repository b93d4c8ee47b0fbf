using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Tests.Training;

/// <summary>Small learnable datasets: labels are the argmax of a fixed random linear map of the features.</summary>
internal static class SyntheticData
{
    public static Dataset Create(int rows, int[] sampleShape, int classes, ulong seed, string name = "synthetic")
    {
        var rng = new DeterministicRandom(seed, 5);
        int size = (int)ShapeUtil.Product(sampleShape);
        var map = new float[classes * size];
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = (float)rng.NextGaussian();
        }

        var features = new float[rows * size];
        var labels = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            var x = features.AsSpan(r * size, size);
            for (int i = 0; i < size; i++)
            {
                x[i] = rng.NextFloat();
            }

            int best = 0;
            double bestScore = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                double score = 0;
                for (int i = 0; i < size; i++)
                {
                    score += map[c * size + i] * (x[i] - 0.5);
                }

                if (score > bestScore)
                {
                    bestScore = score;
                    best = c;
                }
            }

            labels[r] = best;
        }

        return new Dataset(name, features, labels, sampleShape, classes);
    }
}
