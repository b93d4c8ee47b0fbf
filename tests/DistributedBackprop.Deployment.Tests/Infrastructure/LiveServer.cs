using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DistributedBackprop.Deployment.Tests.Infrastructure;

/// <summary>
/// The server as Program.cs builds it (silo, container hosting, telemetry), in this process, on free loopback
/// ports, with its own Prometheus listener. Extra configuration keys (e.g. <c>OTEL_*</c>) go through the host's
/// configuration exactly as environment variables would.
/// </summary>
public sealed class LiveServer : IAsyncDisposable
{
    private readonly IHost _host;

    private LiveServer(IHost host, int metricsPort)
    {
        _host = host;
        MetricsPort = metricsPort;
    }

    /// <summary>The port of the HTTP/1.1 Prometheus scrape endpoint, /metrics, on 127.0.0.1.</summary>
    public int MetricsPort { get; }

    public Uri MetricsUrl => new($"http://127.0.0.1:{MetricsPort}/metrics");

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public static async Task<LiveServer> StartAsync(IReadOnlyDictionary<string, string?>? configuration = null)
    {
        var ports = FreePorts.Take(3);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Cluster:SiloPort"] = ports[0].ToString(),
            ["Cluster:GatewayPort"] = ports[1].ToString(),
            ["Cluster:ClusterId"] = "dbp-deployment-tests-" + Guid.NewGuid().ToString("N")[..8],
            ["Telemetry:PrometheusPort"] = ports[2].ToString(),
        };
        foreach (var (key, value) in configuration ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddDistributedBackpropSilo();
        builder.AddDistributedBackpropContainerHosting();
        builder.AddDistributedBackpropTelemetry();
        var host = builder.Build();
        await host.StartAsync();
        return new LiveServer(host, ports[2]);
    }

    /// <summary>Runs <paramref name="spec"/> to its end and returns its events; fails unless it completed.</summary>
    public async Task<List<RunEvent>> TrainAsync(string runId, RunSpec spec)
    {
        var events = await RunDriver.RunToEndAsync(Grains, runId, spec, TimeSpan.FromMinutes(2));
        var last = events[^1];
        Assert.True(last.EventCase == RunEvent.EventOneofCase.RunCompleted,
            $"Run {runId} ended with {last.EventCase}: {last.RunFailed?.Reason ?? last.RunCancelled?.Reason}");
        return events;
    }

    /// <summary>One scrape of the Prometheus endpoint, as Prometheus would make it.</summary>
    public async Task<string> ScrapeAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(MetricsUrl);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
