using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Tests.Infrastructure;
using Google.Rpc;
using Grpc.Core;

namespace DistributedBackprop.Server.Tests.Api;

[Collection(ServerGroup.Name)]
public sealed class StartRunValidationTests(ServerFixture server)
{
    public static TheoryData<string, string> InvalidSpecs => new()
    {
        { "negative-learning-rate", "spec.optimizer.learning_rate" },
        { "zero-batch-size", "spec.batch_size" },
        { "micro-batches-not-dividing", "spec.micro_batches" },
        { "unknown-layer-type", "spec.layers.layers[1].type" },
        { "shape-mismatch", "spec.layers.layers[1]" },
        { "outputs-not-classes", "spec.layers" },
        { "unknown-dataset", "spec.dataset_name" },
        { "more-workers-than-micro-batches", "spec.workers" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public async Task StartRun_InvalidSpec_InvalidArgumentNamingTheFieldAndNothingStarted(string problem, string field)
    {
        var spec = Break(TestSpecs.Small(server.Data.Directory, epochs: 1), problem);
        string runId = "invalid-" + problem;

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.StartRunAsync(new StartRunRequest { Spec = spec, RunId = runId }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        var violation = Assert.Single(badRequest.FieldViolations);
        Assert.StartsWith(field, violation.Field, StringComparison.Ordinal);
        Assert.Contains(violation.Description, error.Status.Detail, StringComparison.Ordinal);
        var lookup = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.GetRunAsync(new GetRunRequest { RunId = runId }));
        Assert.Equal(StatusCode.NotFound, lookup.StatusCode);
        var listed = await server.Client.ListRunsAsync(new ListRunsRequest { PageSize = 1000 });
        Assert.DoesNotContain(listed.Runs, r => r.Id == runId);
    }

    [Fact]
    public async Task StartRun_NoSpec_InvalidArgumentNamingSpec()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.StartRunAsync(new StartRunRequest()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("spec", Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
    }

    [Fact]
    public async Task StartRun_MalformedRunId_InvalidArgumentNamingRunId()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.StartRunAsync(
            new StartRunRequest { Spec = TestSpecs.Small(server.Data.Directory), RunId = "a/b" }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("run_id", Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
    }

    private static RunSpec Break(RunSpec spec, string problem)
    {
        switch (problem)
        {
            case "negative-learning-rate":
                spec.Optimizer.LearningRate = -0.1f;
                break;
            case "zero-batch-size":
                spec.BatchSize = 0;
                break;
            case "micro-batches-not-dividing":
                spec.MicroBatches = 5;
                spec.Workers = 1;
                break;
            case "unknown-layer-type":
                spec.Layers = Layers(
                    new LayerSpec { Type = "flatten" },
                    new LayerSpec { Type = "densely", Units = 10 });
                break;
            case "shape-mismatch":
                // A convolution needs (channels, height, width), not the flattened vector.
                spec.Layers = Layers(
                    new LayerSpec { Type = "flatten" },
                    new LayerSpec { Type = "conv2d", Filters = 4 });
                break;
            case "outputs-not-classes":
                // Ends in 7 outputs for a 10-class dataset.
                spec.Layers = Layers(new LayerSpec { Type = "flatten" }, new LayerSpec { Type = "dense", Units = 7 });
                break;
            case "unknown-dataset":
                spec.DatasetName = "imagenet-22k";
                break;
            case "more-workers-than-micro-batches":
                spec.Workers = 9;
                break;
        }

        return spec;
    }

    private static LayerList Layers(params LayerSpec[] layers)
    {
        var list = new LayerList();
        list.Layers.AddRange(layers);
        return list;
    }
}
