using DistributedBackprop.Deployment.Tests.Metrics;

namespace DistributedBackprop.Deployment.Tests.Infrastructure;

// Tests that start a server in this process run in collections that never run beside another: every host's
// meter and tracer providers listen to every meter and activity source of the process, so two live servers
// would see each other's telemetry.

/// <summary>Tests reading the telemetry of one trained server (and its Prometheus).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainedServerTests : ICollectionFixture<TrainedServerFixture>
{
    public const string Name = "Trained server";
}

/// <summary>Tests starting servers of their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveServerTests
{
    public const string Name = "Live server";
}
