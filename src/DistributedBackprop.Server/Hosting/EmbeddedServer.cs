using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Server.Hosting;

/// <summary>
/// A whole server inside the calling process, on 127.0.0.1 and free ports, with localhost clustering: what
/// <c>dbp train</c> talks to when no <c>--server</c> is given, and what the tests start. It never reacts to
/// Ctrl+C or SIGTERM itself; its owner decides when it stops.
/// </summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedServer(WebApplication app)
    {
        _app = app;
        var endpoints = app.Services.GetRequiredService<ServerEndpoints>();
        GrpcAddress = endpoints.GrpcAddress;
        HttpAddress = endpoints.HttpAddress;
    }

    /// <summary>The gRPC endpoint, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>The HTTP/1.1 endpoint (/healthz).</summary>
    public Uri HttpAddress { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server; its logs at <paramref name="minimumLevel"/> and above go to standard error, so
    /// standard output stays the caller's.</summary>
    /// <param name="settings">More configuration keys, e.g. <c>Cluster:DataDirectory</c> or
    /// <c>Server:WatchBufferEvents</c>.</param>
    public static async Task<EmbeddedServer> StartAsync(
        LogLevel minimumLevel = LogLevel.Warning,
        IReadOnlyDictionary<string, string?>? settings = null,
        CancellationToken cancellation = default)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Server:ListenAddress"] = "127.0.0.1",
            ["Server:GrpcPort"] = "0",
            ["Server:HttpPort"] = "0",
            ["Cluster:SiloPort"] = FreePort(),
            ["Cluster:GatewayPort"] = FreePort(),
            ["Cluster:PrimarySiloPort"] = null,
            ["Cluster:Redis"] = null,
            ["Cluster:ClusterId"] = "dbp-embedded-" + Guid.NewGuid().ToString("N")[..8],

            // Compute lowered below messaging protects transfers between silos; embedded, every transfer stays in
            // the process and passes by reference, and the hop to a separate compute thread only costs. Alternating
            // runs of `dbp train`: mlp 10 epochs 6.96-6.98 s at 0 against 7.37-7.46 s at appsettings.json's 10
            // (and 7.1-8.3 against 7.6-10.0 s on a busier hour), cnn 4,234-4,266 against 4,023-4,174 samples/s.
            ["Cluster:ComputeNiceness"] = "0",

            // appsettings.json speaks for the standalone server; embedded, only what the caller asked for.
            ["Logging:LogLevel:Default"] = minimumLevel.ToString(),
            ["Logging:LogLevel:DistributedBackprop"] = minimumLevel.ToString(),
            ["Logging:LogLevel:Orleans"] = LogLevel.Error.ToString(),
            ["Logging:LogLevel:Microsoft"] = LogLevel.Error.ToString(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var builder = ServerHost.CreateBuilder([], overrides);
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSingleton<IHostLifetime, OwnerLifetime>();
        var app = ServerHost.Build(builder);
        try
        {
            await ServerHost.StartAsync(app, cancellation);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new EmbeddedServer(app);
    }

    /// <summary>Stops gracefully: runs still going are cancelled after their current step.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    // A silo needs real ports before it starts (Orleans does not take 0); the tiny window in which another
    // process could take the port between this probe and the bind is accepted.
    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
    }

    // The host's default lifetime stops it on Ctrl+C; an embedded server stops when its owner disposes it.
    private sealed class OwnerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
