using System.Net;

namespace DistributedBackprop.Server.Hosting;

/// <summary>How a server exports its telemetry; bound from the <c>Telemetry</c> configuration section
/// (environment: <c>Telemetry__PrometheusPort</c> and so on). The OTLP exporter is configured by the standard
/// <c>OTEL_*</c> environment variables instead, and is on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or a
/// per-signal endpoint) is set.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>When set, the server serves the Prometheus scrape endpoint on its own HTTP/1.1 listener at this
    /// port; null leaves it to a host that maps <c>MapPrometheusScrapingEndpoint</c> on its own HTTP/1.1
    /// endpoint.</summary>
    public int? PrometheusPort { get; set; }

    /// <summary>The IP address the Prometheus listener binds; <c>0.0.0.0</c> in containers.</summary>
    public string PrometheusAddress { get; set; } = "127.0.0.1";

    /// <summary>The scrape path.</summary>
    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary>The <c>service.name</c> resource attribute when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public string ServiceName { get; set; } = "distributed-backprop";

    /// <summary>Every problem with these options, each naming the setting, its value and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (PrometheusPort is int port && port is < 1 or > 65535)
        {
            errors.Add($"{SectionName}:{nameof(PrometheusPort)} is {port}; use a TCP port in 1-65535, or leave it "
                + "unset to let the host map the endpoint.");
        }

        if (!IPAddress.TryParse(PrometheusAddress, out _))
        {
            errors.Add($"{SectionName}:{nameof(PrometheusAddress)} is '{PrometheusAddress}'; use an IP address such "
                + "as 127.0.0.1 or 0.0.0.0.");
        }

        if (!PrometheusPath.StartsWith('/'))
        {
            errors.Add($"{SectionName}:{nameof(PrometheusPath)} is '{PrometheusPath}'; use a path starting with '/'.");
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            errors.Add($"{SectionName}:{nameof(ServiceName)} is empty; give the service a name.");
        }

        return errors;
    }
}
