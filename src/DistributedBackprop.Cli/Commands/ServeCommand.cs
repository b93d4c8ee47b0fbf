using System.CommandLine;
using System.Globalization;
using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.Hosting;

namespace DistributedBackprop.Cli.Commands;

/// <summary>
/// <c>dbp serve</c>: a server in the foreground (what the container image runs). Flags override appsettings.json
/// and environment variables (<c>Server__GrpcPort</c>, <c>Cluster__Redis</c>…); other <c>--Section:Key=value</c>
/// arguments pass through to the configuration. Stops gracefully on SIGTERM or Ctrl+C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var grpcPort = Setting<int?>("--grpc-port", "gRPC port (HTTP/2); default 50051, 0 picks a free one.");
        var httpPort = Setting<int?>("--http-port", "HTTP/1.1 port (/healthz); default 8080.");
        var listen = Setting<string?>("--listen", "Address to bind; default 0.0.0.0 (all interfaces).");
        var siloPort = Setting<int?>("--silo-port", "Orleans silo-to-silo port; default 11111.");
        var tensorPort = Setting<int?>(
            "--tensor-port", "Tensor channel port (gradients between silos); default 0, a free one.");
        var gatewayPort = Setting<int?>("--gateway-port", "Orleans client gateway port; default 30000.");
        var redis = Setting<string?>("--redis", "HOST:PORT of Redis for clustering; default localhost clustering.");
        var clusterId = Setting<string?>("--cluster-id", "Silos with the same id form one cluster; default dbp.");
        var dataDir = Setting<string?>("--data-dir", "Searched for datasets by name before /usr/share/datasets.");
        var command = new Command("serve", "Run a DistributedBackprop server (silo + gRPC) in the foreground.")
        {
            grpcPort, httpPort, listen, siloPort, tensorPort, gatewayPort, redis, clusterId, dataDir,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellation) =>
        {
            var overrides = new Dictionary<string, string?>();
            Set(overrides, "Server:GrpcPort", parse.GetValue(grpcPort));
            Set(overrides, "Server:HttpPort", parse.GetValue(httpPort));
            Set(overrides, "Server:ListenAddress", parse.GetValue(listen));
            Set(overrides, "Cluster:SiloPort", parse.GetValue(siloPort));
            Set(overrides, "Cluster:TensorPort", parse.GetValue(tensorPort));
            Set(overrides, "Cluster:GatewayPort", parse.GetValue(gatewayPort));
            Set(overrides, "Cluster:Redis", parse.GetValue(redis));
            Set(overrides, "Cluster:ClusterId", parse.GetValue(clusterId));
            Set(overrides, "Cluster:DataDirectory", parse.GetValue(dataDir));
            try
            {
                var app = ServerHost.Build(ServerHost.CreateBuilder([.. parse.UnmatchedTokens], overrides));
                await using (app)
                {
                    await ServerHost.StartAsync(app, cancellation);
                    await app.WaitForShutdownAsync(cancellation);
                }

                return 0;
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 1;
            }
        });
        return command;
    }

    private static Option<T> Setting<T>(string name, string description) => new(name) { Description = description };

    private static void Set<T>(Dictionary<string, string?> overrides, string key, T? value)
    {
        if (value is not null)
        {
            overrides[key] = Convert.ToString(value, CultureInfo.InvariantCulture);
        }
    }
}
