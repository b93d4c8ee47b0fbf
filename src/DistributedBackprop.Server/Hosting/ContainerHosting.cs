using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace DistributedBackprop.Server.Hosting;

/// <summary>Makes a silo reachable from other containers or pods: it listens on every interface and advertises
/// its container or pod address instead of loopback; under Kubernetes it also uses Orleans Kubernetes
/// hosting.</summary>
public static class ContainerHosting
{
    /// <summary>
    /// Applies the <c>Hosting</c> configuration section (then <paramref name="configure"/>) to the host's silo;
    /// does nothing when neither <see cref="ContainerHostingOptions.Kubernetes"/> nor
    /// <see cref="ContainerHostingOptions.AdvertisedAddress"/> is set. Call it after the silo's clustering is
    /// configured.
    /// </summary>
    /// <exception cref="InvalidOperationException">The options are invalid; the message lists every
    /// problem.</exception>
    public static IHostApplicationBuilder AddDistributedBackpropContainerHosting(
        this IHostApplicationBuilder builder,
        Action<ContainerHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new ContainerHostingOptions();
        builder.Configuration.GetSection(ContainerHostingOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid hosting options: " + string.Join(" ", errors));
        }

        if (options.Kubernetes)
        {
            var podIp = IPAddress.Parse(Environment.GetEnvironmentVariable("POD_IP")!);
            builder.UseOrleans(silo =>
            {
                silo.UseKubernetesHosting();
                Advertise(silo, podIp);
            });
        }
        else if (!string.IsNullOrWhiteSpace(options.AdvertisedAddress))
        {
            var address = Resolve(options.AdvertisedAddress);
            builder.UseOrleans(silo => Advertise(silo, address));
        }

        return builder;
    }

    // A post-configuration, so it wins over the clustering's loopback endpoints whatever the call order.
    private static void Advertise(ISiloBuilder silo, IPAddress address) =>
        silo.Services.PostConfigure<EndpointOptions>(endpoints =>
        {
            endpoints.AdvertisedIPAddress = address;
            endpoints.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, endpoints.SiloPort);
            endpoints.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, endpoints.GatewayPort);
        });

    private static IPAddress Resolve(string advertised)
    {
        if (IPAddress.TryParse(advertised, out var address))
        {
            return address;
        }

        var candidates = string.Equals(advertised, "auto", StringComparison.OrdinalIgnoreCase)
            ? Dns.GetHostAddresses(Dns.GetHostName())
            : Dns.GetHostAddresses(advertised);
        return candidates.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException(
                $"{ContainerHostingOptions.SectionName}:{nameof(ContainerHostingOptions.AdvertisedAddress)} is "
                + $"'{advertised}', which resolves to no non-loopback IPv4 address; give an IP address instead.");
    }
}
