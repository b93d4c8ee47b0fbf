using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace DistributedBackprop.Server.Hosting;

/// <summary>
/// Serves the Prometheus scrape endpoint on a Kestrel listener of its own (HTTP/1.1: Prometheus cannot scrape an
/// HTTP/2-only gRPC port), reading the host's meter provider. Used when
/// <see cref="TelemetryOptions.PrometheusPort"/> is set.
/// </summary>
internal sealed class PrometheusListener(IServiceProvider services, TelemetryOptions options) : IHostedService
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var address = IPAddress.Parse(options.PrometheusAddress);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(
            address, options.PrometheusPort!.Value, listen => listen.Protocols = HttpProtocols.Http1));
        _app = builder.Build();
        _app.MapPrometheusScrapingEndpoint(
            options.PrometheusPath,
            services.GetRequiredService<MeterProvider>(),
            configureBranchedPipeline: null,
            optionsName: null);
        await _app.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
            await _app.DisposeAsync();
        }
    }
}
