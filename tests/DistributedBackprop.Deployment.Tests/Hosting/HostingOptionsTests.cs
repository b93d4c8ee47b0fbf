using System.Net;
using DistributedBackprop.Cluster;
using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace DistributedBackprop.Deployment.Tests.Hosting;

/// <summary>The container hosting and telemetry extensions: what they configure, and errors that name the setting.
/// Hosts are built, not started.</summary>
public sealed class HostingOptionsTests
{
    [Fact]
    public void ContainerHosting_AdvertisedAddress_OverridesRedisClusteringsLoopbackAndListensOnAllInterfaces()
    {
        using var host = Build(new()
        {
            ["Cluster:Redis"] = "127.0.0.1:6379",
            ["Hosting:AdvertisedAddress"] = "10.1.2.3",
        });

        var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;

        Assert.Equal(IPAddress.Parse("10.1.2.3"), endpoints.AdvertisedIPAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 11111), endpoints.SiloListeningEndpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 30000), endpoints.GatewayListeningEndpoint);
    }

    [Fact]
    public void ContainerHosting_NoHostingSettings_KeepsLoopbackEndpoints()
    {
        using var host = Build(new() { ["Cluster:Redis"] = "127.0.0.1:6379" });

        var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;

        Assert.Equal(IPAddress.Loopback, endpoints.AdvertisedIPAddress);
        Assert.Null(endpoints.SiloListeningEndpoint);
    }

    [Fact]
    public void ContainerHostingOptions_KubernetesWithAddress_NamesBothSettings()
    {
        var options = new ContainerHostingOptions { Kubernetes = true, AdvertisedAddress = "auto" };

        var errors = options.Validate();

        Assert.Contains(errors, e => e.Contains("Hosting:AdvertisedAddress", StringComparison.Ordinal)
            && e.Contains("Hosting:Kubernetes", StringComparison.Ordinal));
    }

    [Fact]
    public void TelemetryOptions_BadPortAddressAndPath_ListsEveryProblem()
    {
        var options = new TelemetryOptions
        {
            PrometheusPort = 70000,
            PrometheusAddress = "localhost",
            PrometheusPath = "metrics",
        };

        var errors = options.Validate();

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Telemetry:PrometheusPort is 70000", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith(
            "Telemetry:PrometheusAddress is 'localhost'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Telemetry:PrometheusPath is 'metrics'", StringComparison.Ordinal));
    }

    [Fact]
    public void AddDistributedBackpropTelemetry_InvalidSection_ThrowsNamingTheSetting()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Telemetry:PrometheusPort"] = "0",
        });

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddDistributedBackpropTelemetry());

        Assert.Contains("Telemetry:PrometheusPort is 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Silo_TensorSettings_ReachTheRunGrainsOptions()
    {
        using var host = Build(new()
        {
            ["Cluster:TensorChannel"] = "false",
            ["Cluster:TensorPort"] = "11112",
            ["Cluster:MaxMessageBodySize"] = "2097152",
        });

        var training = host.Services.GetRequiredService<IOptions<TrainingSiloOptions>>().Value;

        Assert.False(training.TensorChannel);
        Assert.Equal(11112, training.TensorPort);
        Assert.Equal(2097152, training.TensorMaxPayloadBytes);
    }

    [Theory]
    [InlineData(-1, "Cluster:TensorPort is -1; use a TCP port in 1-65535, or 0 for a free one.")]
    [InlineData(70000, "Cluster:TensorPort is 70000; use a TCP port in 1-65535, or 0 for a free one.")]
    [InlineData(11111, "Cluster:TensorPort is 11111, the same as the silo or gateway port")]
    public void ClusterHostOptions_BadTensorPort_NamesTheSetting(int port, string expected)
    {
        var errors = new ClusterHostOptions { TensorPort = port }.Validate();

        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddDistributedBackpropSilo();
        builder.AddDistributedBackpropContainerHosting();
        return builder.Build();
    }
}
