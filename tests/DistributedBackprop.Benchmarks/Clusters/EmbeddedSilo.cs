using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>One silo in this process, hosted as the server program hosts it (generic host, the silo with
/// localhost clustering, container hosting and telemetry as configured by default), on free ports.</summary>
internal sealed class EmbeddedSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedSilo(IHost host)
    {
        _host = host;
    }

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public static async Task<EmbeddedSilo> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();

        // Figures go to stdout; the silo's warnings go to stderr.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddDistributedBackpropSilo(options =>
        {
            options.SiloPort = Ports.Free();
            options.GatewayPort = Ports.Free();
        });
        builder.AddDistributedBackpropContainerHosting();
        builder.AddDistributedBackpropTelemetry();
        var host = builder.Build();
        await host.StartAsync();
        return new EmbeddedSilo(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
