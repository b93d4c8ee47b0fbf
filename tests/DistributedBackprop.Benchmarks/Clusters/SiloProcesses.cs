using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace DistributedBackprop.Benchmarks.Clusters;

/// <summary>
/// A private redis-server and N server processes on 127.0.0.1 joined through Redis membership, plus a client
/// in this process: the multi-process test's cluster, for measuring. Stops what it started, by process id.
/// </summary>
internal sealed class SiloProcesses : IAsyncDisposable
{
    private readonly List<Process> _silos = [];
    private readonly StringBuilder _output = new();
    private int _redisPort;
    private IHost? _client;

    public IGrainFactory Grains => _client?.Services.GetRequiredService<IClusterClient>()
        ?? throw new InvalidOperationException("The cluster is not started.");

    /// <summary>The silos' output so far, for failure messages.</summary>
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

    public static async Task<SiloProcesses> StartAsync(int silos, TimeSpan timeout)
    {
        var cluster = new SiloProcesses();
        try
        {
            await cluster.StartRedisAsync();
            string clusterId = "dbp-bench-" + Guid.NewGuid().ToString("N")[..8];
            string redis = $"127.0.0.1:{cluster._redisPort}";
            for (int i = 0; i < silos; i++)
            {
                cluster.StartSilo(clusterId, redis);
            }

            await cluster.ConnectAsync(clusterId, redis, silos, timeout);
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
        _redisPort = Ports.Free();
        var start = new ProcessStartInfo(
            "redis-server", $"--bind 127.0.0.1 --port {_redisPort} --save '' --appendonly no --daemonize yes")
        {
            RedirectStandardOutput = true,
        };
        using (var redis = Process.Start(start)
            ?? throw new InvalidOperationException("redis-server did not start; apt-get install -y redis-server."))
        {
            await redis.WaitForExitAsync();
        }

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

    private void StartSilo(string clusterId, string redis)
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
        start.Environment["Cluster__SiloPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture);
        start.Environment["Cluster__GatewayPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture);
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        // Every silo sees all the machine's cores and would give each of its workers a share of them; on one
        // machine the silos share the cores, so one kernel thread per worker keeps them from oversubscribing.
        start.Environment["Cluster__ThreadsPerWorker"] = "1";

        // Three silos and this process share two cores: workstation GC keeps them from fighting over heaps.
        start.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _silos.Add(process);
    }

    private async Task ConnectAsync(string clusterId, string redis, int silos, TimeSpan timeout)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
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

        var management = Grains.GetGrain<IManagementGrain>(0);
        while ((await management.GetHosts(onlyActive: true)).Count < silos)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"Fewer than {silos} silos became active within {timeout}. Silo output:\n{Output}");
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
}
