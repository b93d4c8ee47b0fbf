using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Training;

namespace DistributedBackprop.Cluster.Tests.Infrastructure;

/// <summary>The run a spec describes, on the Core library's single-process <see cref="Trainer"/>: the reference
/// a cluster run must match bit for bit.</summary>
public static class SingleProcessReference
{
    public static (float[] Parameters, TrainingResult Result) Train(RunSpec spec)
    {
        var data = DatasetCatalog.Default.Load(RunSpecMapping.Dataset(spec));
        var options = RunSpecMapping.ToTrainingOptions(spec, threads: 1);
        var trainer = new Trainer(RunSpecMapping.ToModelSpec(spec), data.Train, data.Test, options);
        var result = trainer.Run();
        return ((float[])trainer.Model.Parameters.Clone(), result);
    }
}
