using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Reduction;

namespace DistributedBackprop.Cluster.Tests.Infrastructure;

/// <summary>
/// The run a spec describes, in one process and one loop: all M micro-batches folded by one accumulator, the
/// norm over the whole vector, clipping and the optimizer over the whole vector. The cluster must match it bit
/// for bit.
/// </summary>
public static class SingleProcessReference
{
    public static float[] Train(RunSpec spec)
    {
        var replica = ModelReplica.Create(spec, dataRoot: null);
        var layout = replica.Layout;
        var parameters = ModelReplica.InitialParameters(layout, spec.Seed);
        var optimizer = Optimizer.Create(RunSettings.Optimizer(spec), layout, 0, layout.Count);
        int stepsPerEpoch = spec.MaxStepsPerEpoch > 0
            ? Math.Min(replica.StepsPerEpoch, spec.MaxStepsPerEpoch) : replica.StepsPerEpoch;
        var schedule = new LearningRateSchedule(RunSettings.Schedule(spec, (long)stepsPerEpoch * spec.Epochs));
        var accumulator = new MicroBatchAccumulator(layout.Count);
        long globalStep = 0;
        for (int epoch = 0; epoch < spec.Epochs; epoch++)
        {
            for (int step = 0; step < stepsPerEpoch; step++, globalStep++)
            {
                replica.SetParameters(parameters);
                accumulator.Reset(spec.MicroBatches);
                for (int m = 0; m < spec.MicroBatches; m++)
                {
                    var gradient = accumulator.Rent();
                    replica.ComputeMicroBatch(epoch, step, m, spec.MicroBatches, gradient);
                    accumulator.Push(m, gradient);
                }

                var sum = accumulator.Finish();
                double norm = GradientNorm.GlobalNorm(layout, sum);
                if (spec.ClipNorm > 0f)
                {
                    GradientClipping.ClipByGlobalNorm(layout, sum, 0, norm, spec.ClipNorm);
                }

                if (spec.ClipValue > 0f)
                {
                    GradientClipping.ClipByValue(layout, sum, 0, spec.ClipValue);
                }

                optimizer.Step(parameters, sum, schedule.LearningRateAt(globalStep), globalStep + 1);
            }
        }

        return parameters;
    }
}
