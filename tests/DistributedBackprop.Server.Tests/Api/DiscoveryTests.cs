using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Tests.Infrastructure;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace DistributedBackprop.Server.Tests.Api;

[Collection(ServerGroup.Name)]
public sealed class DiscoveryTests(ServerFixture server)
{
    [Fact]
    public async Task Reflection_ListServices_IncludesTrainingService()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30));

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("distributedbackprop.v1.TrainingService", names);
    }

    [Theory]
    [InlineData("")]
    [InlineData("distributedbackprop.v1.TrainingService")]
    public async Task HealthCheck_RunningServer_Serving(string service)
    {
        var health = new Health.HealthClient(server.Channel);

        var response = await health.CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Metrics_Http11Endpoint_ServesTheTrainingMeterToPrometheus()
    {
        var run = await server.Client.StartRunAsync(new StartRunRequest
        {
            Spec = TestSpecs.Small(server.Data.Directory, epochs: 1),
        });
        await RunEvents.WatchToEndAsync(server.Client, run.Id);
        using var http = new HttpClient { BaseAddress = server.Server.HttpAddress };

        string text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("# TYPE dbp_", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_Http11Endpoint_Ok()
    {
        using var http = new HttpClient { BaseAddress = server.Server.HttpAddress };

        using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }
}
