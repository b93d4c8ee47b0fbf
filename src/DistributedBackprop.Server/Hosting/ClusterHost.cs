using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace DistributedBackprop.Server.Hosting;

/// <summary>Wires an Orleans silo for DistributedBackprop into a generic host: localhost clustering by
/// default, Redis clustering when <see cref="ClusterHostOptions.Redis"/> is set.</summary>
public static class ClusterHost
{
    /// <summary>
    /// Adds the silo to <paramref name="builder"/>. Options come from the <c>Cluster</c> configuration section,
    /// then <paramref name="configure"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Invalid options; the message lists every problem.</exception>
    public static IHostApplicationBuilder AddDistributedBackpropSilo(
        this IHostApplicationBuilder builder,
        Action<ClusterHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new ClusterHostOptions();
        builder.Configuration.GetSection(ClusterHostOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid cluster options: " + string.Join(" ", errors));
        }

        // The resolved options, for logging the addresses and for the embedded host.
        builder.Services.AddSingleton(options);
        builder.UseOrleans(silo =>
        {
            if (string.IsNullOrWhiteSpace(options.Redis))
            {
                var primary = new IPEndPoint(IPAddress.Loopback, options.PrimarySiloPort ?? options.SiloPort);
                silo.UseLocalhostClustering(
                    options.SiloPort, options.GatewayPort, primary, options.ServiceId, options.ClusterId);
            }
            else
            {
                UseRedisClustering(silo, options);
            }

            silo.AddDistributedBackprop(options);
        });
        return builder;
    }

    private static void UseRedisClustering(ISiloBuilder silo, ClusterHostOptions options)
    {
        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = options.ClusterId;
            cluster.ServiceId = options.ServiceId;
        });
        silo.ConfigureEndpoints(IPAddress.Loopback, options.SiloPort, options.GatewayPort);
        silo.UseRedisClustering(redis => redis.ConfigurationOptions =
            StackExchange.Redis.ConfigurationOptions.Parse(options.Redis!));
        silo.Configure<ClusterMembershipOptions>(membership =>
        {
            membership.ProbeTimeout = options.ProbeTimeout;
            membership.NumMissedProbesLimit = options.NumMissedProbesLimit;
        });
    }
}
