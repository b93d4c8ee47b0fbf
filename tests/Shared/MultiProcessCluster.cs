using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace DistributedBackprop.Testing;

/// <summary>
/// A private redis-server and N silo processes (the real server program) on 127.0.0.1, joined through Redis
/// membership, plus a client. Everything it starts it stops on dispose, by process id. Shared as source by the
/// cluster tests and the cluster benchmark (linked into both projects).
/// </summary>
public sealed class MultiProcessCluster : IAsyncDisposable
{
    private readonly List<Process> _silos = [];
    private readonly StringBuilder _output = new();
    private int _redisPort;
    private IHost? _client;

    public IClusterClient Client => _client?.Services.GetRequiredService<IClusterClient>()
        ?? throw new InvalidOperationException("The cluster is not started.");

    /// <summary>Silo process output so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="environment">Extra settings for every silo process, applied after the defaults.</param>
    /// <param name="clusterIdPrefix">Start of the random cluster id, to tell test and benchmark clusters apart.</param>
    public static async Task<MultiProcessCluster> StartAsync(
        int silos,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null,
        string clusterIdPrefix = "dbp-test")
    {
        var cluster = new MultiProcessCluster();
        try
        {
            await cluster.StartRedisAsync();
            string clusterId = clusterIdPrefix + "-" + Guid.NewGuid().ToString("N")[..8];
            string redis = $"127.0.0.1:{cluster._redisPort}";
            for (int i = 0; i < silos; i++)
            {
                cluster.StartSilo(clusterId, redis, FreePort(), FreePort(), environment);
            }

            await cluster.ConnectClientAsync(clusterId, redis, silos, timeout);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync();
            }
            catch (Exception)
            {
                // The silos may already be gone; the client is discarded either way.
            }

            _client.Dispose();
        }

        foreach (var silo in _silos)
        {
            if (!silo.HasExited)
            {
                silo.Kill(entireProcessTree: true);
                await silo.WaitForExitAsync();
            }

            silo.Dispose();
        }

        if (_redisPort != 0)
        {
            using var shutdown = Process.Start(new ProcessStartInfo(
                "redis-cli", $"-p {_redisPort} shutdown nosave") { RedirectStandardOutput = true })!;
            await shutdown.WaitForExitAsync();
        }
    }

    private async Task StartRedisAsync()
    {
        _redisPort = FreePort();
        using var redis = Process.Start(new ProcessStartInfo(
            "redis-server",
            $"--bind 127.0.0.1 --port {_redisPort} --save '' --appendonly no --daemonize yes")
        {
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException(
            "redis-server did not start; install it (apt-get install redis-server).");
        await redis.WaitForExitAsync();

        // Daemonized: wait until it answers.
        for (int attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _redisPort);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not accept connections on port {_redisPort} in 5 s.");
    }

    private void StartSilo(
        string clusterId,
        string redis,
        int siloPort,
        int gatewayPort,
        IReadOnlyDictionary<string, string>? environment)
    {
        string server = Path.Combine(AppContext.BaseDirectory, "DistributedBackprop.Server.dll");
        var start = new ProcessStartInfo("dotnet", $"\"{server}\" --contentRoot \"{AppContext.BaseDirectory}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Cluster__Redis"] = redis;
        start.Environment["Cluster__ClusterId"] = clusterId;
        start.Environment["Cluster__SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Cluster__GatewayPort"] =
            gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Cluster__ProbeTimeout"] = "00:00:02";

        // Each process also serves gRPC and HTTP: free ports, this machine only.
        start.Environment["Server__ListenAddress"] = "127.0.0.1";
        start.Environment["Server__GrpcPort"] = "0";
        start.Environment["Server__HttpPort"] = "0";

        // Several silos and the test share two cores: workstation GC keeps them from fighting over heaps.
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _silos.Add(process);
    }

    private async Task ConnectClientAsync(string clusterId, string redis, int silos, TimeSpan timeout)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = new ClusterHostOptions().ServiceId;
            });
            client.UseRedisClustering(o => o.ConfigurationOptions =
                StackExchange.Redis.ConfigurationOptions.Parse(redis));
            client.AddDistributedBackprop(new ClusterHostOptions());
        });
        _client = builder.Build();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await _client.StartAsync();
                break;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }

        var management = Client.GetGrain<IManagementGrain>(0);
        while (true)
        {
            var hosts = await management.GetHosts(onlyActive: true);
            if (hosts.Count == silos)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"Only {hosts.Count} of {silos} silos became active within {timeout}. Silo output:\n{Output}");
            }

            await Task.Delay(250);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
