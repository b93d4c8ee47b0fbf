using System.Net;
using System.Net.Sockets;
using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Core.Data;
using DistributedBackprop.Core.Training;
using Microsoft.Extensions.DependencyInjection;

namespace DistributedBackprop.Cluster.Tests.Runs;

public sealed class FailureTests
{
    [Fact]
    public async Task Run_WorkerThrows_FailsWithReasonAndNextRunSucceeds()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(
            silos: 1, silo => silo.AddIncomingGrainCallFilter<FailingStepFilter>());
        var spec = Specs.Small(data.Directory, workers: 2, shards: 1);

        var failed = await RunDriver.RunToEndAsync(cluster.Client, "failing", spec, TimeSpan.FromMinutes(2));
        var healthy = await RunDriver.RunToEndAsync(cluster.Client, "after-failure", spec, TimeSpan.FromMinutes(2));

        Assert.Equal(RunEvent.EventOneofCase.RunFailed, failed[^1].EventCase);
        string reason = failed[^1].RunFailed.Reason;
        Assert.Contains("Worker rank 1", reason, StringComparison.Ordinal);
        Assert.Contains("epoch 1 step 3", reason, StringComparison.Ordinal);
        Assert.Contains(FailingStepFilter.Message, reason, StringComparison.Ordinal);
        Assert.Equal(2, failed.Count(e => e.EventCase == RunEvent.EventOneofCase.StepProgress));
        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, healthy[^1].EventCase);
        Assert.Single(cluster.GetActiveSilos());
    }

    // Without norm clipping the shards apply each update on their own, but not a step with a non-finite loss or
    // slice: the coordinator fails that step, at the step the trainer stops at, and the next run works.
    [Fact]
    public async Task Run_DivergesWithoutNormClipping_FailsAtTrainersStepNamingItAndNextRunSucceeds()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(silos: 1);
        var spec = Specs.Small(data.Directory, workers: 4, shards: 3, optimizer: "sgd", clipNorm: 0);
        spec.Optimizer.LearningRate = 1e30f;
        var trainData = DatasetCatalog.Default.Load(RunSpecMapping.Dataset(spec));
        var trainer = new Trainer(
            RunSpecMapping.ToModelSpec(spec),
            trainData.Train,
            trainData.Test,
            RunSpecMapping.ToTrainingOptions(spec, threads: 1));
        var error = Assert.Throws<TrainingException>(() => trainer.Run());
        string step = error.Message[..error.Message.IndexOf(':', StringComparison.Ordinal)];

        var failed = await RunDriver.RunToEndAsync(cluster.Client, "diverging", spec, TimeSpan.FromMinutes(2));
        var healthySpec = Specs.Small(data.Directory, workers: 4, shards: 3, clipNorm: 0);
        var healthy = await RunDriver.RunToEndAsync(
            cluster.Client, "after-divergence", healthySpec, TimeSpan.FromMinutes(2));

        Assert.Equal(RunEvent.EventOneofCase.RunFailed, failed[^1].EventCase);
        string reason = failed[^1].RunFailed.Reason;
        Assert.StartsWith(step + ":", reason, StringComparison.Ordinal);
        Assert.Contains("not finite", reason, StringComparison.Ordinal);

        // No shard applied the failed step: they all still hold the trainer's last parameters.
        var parameters = await RunDriver.ParametersAsync(cluster.Client, "diverging");
        EquivalenceTests.AssertBitEqual(trainer.Model.Parameters, parameters, "diverging");
        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, healthy[^1].EventCase);
    }

    [Fact]
    public async Task Run_ShardEndpointDead_FailsNamingEndpointAndNextRunUsesChannel()
    {
        using var data = SyntheticDataset.Small();
        await using var cluster = await TestClusters.StartAsync(
            silos: 3, silo => silo.AddIncomingGrainCallFilter<DeadEndpointFilter>());
        var spec = Specs.Small(data.Directory, workers: 3, shards: 3);

        var failed = await RunDriver.RunToEndAsync(cluster.Client, "dead-endpoint", spec, TimeSpan.FromMinutes(2));
        var healthy = await RunDriver.RunToEndAsync(cluster.Client, "after-dead", spec, TimeSpan.FromMinutes(2));

        Assert.Equal(RunEvent.EventOneofCase.RunFailed, failed[^1].EventCase);
        string reason = failed[^1].RunFailed.Reason;
        Assert.True(reason.Contains("epoch 1 step 1", StringComparison.Ordinal), reason);
        Assert.True(reason.Contains(
            $"TensorTransferException: Tensor channel: cannot connect to {DeadEndpointFilter.Dead}",
            StringComparison.Ordinal), reason);
        Assert.Equal(RunEvent.EventOneofCase.RunCompleted, healthy[^1].EventCase);
        await ChannelAssert.CarriedAllCrossSiloBytesAsync(cluster.Client, "after-dead");
        Assert.Equal(3, cluster.GetActiveSilos().Count());
    }

    /// <summary>Points every reducer of run "dead-endpoint" at a tensor channel endpoint nobody listens on.</summary>
    private sealed class DeadEndpointFilter : IIncomingGrainCallFilter
    {
        public static readonly string Dead = FreeEndpoint();

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.Request.GetArgumentCount() == 1
                && context.Request.GetArgument(0) is Messages.ReducerSetup { RunId: "dead-endpoint" } setup)
            {
                var endpoints = setup.ShardEndpoints.Select(e => e.Length > 0 ? Dead : e).ToArray();
                context.Request.SetArgument(0, setup with { ShardEndpoints = endpoints });
            }

            return context.Invoke();
        }

        // A port that was just free and has no listener: connecting is refused.
        private static string FreeEndpoint()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return probe.LocalEndpoint.ToString()!;
        }
    }

    /// <summary>Throws inside worker rank 1 of run "failing" when it is asked for global step 2.</summary>
    private sealed class FailingStepFilter : IIncomingGrainCallFilter
    {
        public const string Message = "injected failure in a worker";

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.TargetId.Key.ToString() == "failing/worker/1/2"
                && context.Request.GetArgument(0) is Messages.StepOrder { GlobalStep: 2 })
            {
                throw new InvalidOperationException(Message);
            }

            return context.Invoke();
        }
    }
}
