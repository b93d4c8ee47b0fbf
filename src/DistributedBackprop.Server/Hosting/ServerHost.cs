using System.Net;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Server.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Server.Hosting;

/// <summary>
/// Builds the DistributedBackprop server: an Orleans silo (see <see cref="ClusterHost"/>), container hosting and
/// telemetry (see <see cref="TelemetryHost"/>), and Kestrel with two endpoints: HTTP/2-only for gRPC
/// (TrainingService, reflection, health) and HTTP/1.1 for /healthz and the Prometheus scrape path (unless
/// <c>Telemetry:PrometheusPort</c> gives the scrape endpoint a listener of its own). Used by the standalone
/// program, <c>dbp serve</c>, the CLI's embedded mode and the tests.
/// </summary>
public static partial class ServerHost
{
    /// <summary>
    /// A builder configured from appsettings.json (beside the program unless <c>--contentRoot</c> says
    /// otherwise), environment variables (<c>Server__GrpcPort</c>, <c>Cluster__SiloPort</c>…) and
    /// <paramref name="args"/> (<c>--Server:GrpcPort=…</c>), then <paramref name="overrides"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The options are invalid; the message lists every
    /// problem.</exception>
    public static WebApplicationBuilder CreateBuilder(
        string[] args,
        IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool hasContentRoot = args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = hasContentRoot ? null : AppContext.BaseDirectory,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var options = new ServerOptions();
        builder.Configuration.GetSection(ServerOptions.SectionName).Bind(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid server options: " + string.Join(" ", errors));
        }

        builder.Services.Configure<ServerOptions>(builder.Configuration.GetSection(ServerOptions.SectionName));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout
            + TimeSpan.FromSeconds(15));

        var endpoints = new ServerEndpoints();
        builder.Services.AddSingleton(endpoints);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.ListenAddress);
            kestrel.Listen(address, options.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                endpoints.Grpc = listen;
            });
            kestrel.Listen(address, options.HttpPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                endpoints.Http = listen;
            });
        });

        builder.AddDistributedBackpropSilo();
        builder.AddDistributedBackpropContainerHosting();
        builder.AddDistributedBackpropTelemetry();
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks(health =>
        {
            health.Services.Map("", _ => true);
            health.Services.Map(TrainingService.Descriptor.FullName, _ => true);
        }).AddCheck<SiloHealthCheck>("silo");

        builder.Services.AddHostedService<RunShutdownService>();
        return builder;
    }

    /// <summary>Builds the application and maps the gRPC services and /healthz.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        app.MapGrpcService<TrainingGrpcService>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapHealthChecks("/healthz");

        var telemetry = new TelemetryOptions();
        app.Configuration.GetSection(TelemetryOptions.SectionName).Bind(telemetry);
        if (telemetry.PrometheusPort is null)
        {
            app.MapPrometheusScrapingEndpoint(telemetry.PrometheusPath);
        }

        return app;
    }

    /// <summary>Starts <paramref name="app"/> and logs the addresses it listens on.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        await app.StartAsync(cancellation);
        var endpoints = app.Services.GetRequiredService<ServerEndpoints>();
        var cluster = app.Services.GetRequiredService<ClusterHostOptions>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DistributedBackprop.Server");
        LogListening(
            logger,
            endpoints.GrpcAddress,
            endpoints.HttpAddress,
            cluster.SiloPort,
            cluster.GatewayPort,
            string.IsNullOrWhiteSpace(cluster.Redis) ? "localhost" : "redis " + cluster.Redis);
    }

    [LoggerMessage(10, LogLevel.Information,
        "Listening: gRPC (HTTP/2) on {GrpcAddress}, HTTP/1.1 (/healthz) on {HttpAddress}, silo port {SiloPort}, "
        + "gateway port {GatewayPort}, clustering {Clustering}")]
    private static partial void LogListening(
        ILogger logger,
        Uri grpcAddress,
        Uri httpAddress,
        int siloPort,
        int gatewayPort,
        string clustering);
}
