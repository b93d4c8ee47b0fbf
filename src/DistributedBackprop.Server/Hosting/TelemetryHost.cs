using DistributedBackprop.Cluster.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DistributedBackprop.Server.Hosting;

/// <summary>Wires OpenTelemetry into a silo host: training and Orleans metrics to Prometheus (and OTLP), step
/// spans linked across grains, and logs to OTLP.</summary>
public static class TelemetryHost
{
    /// <summary>The Orleans meter: messaging, grains, membership, and so on.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>The Orleans activity source of application grain calls: the spans that carry a step's trace
    /// from the coordinator to workers, reducers and shards.</summary>
    public const string OrleansApplicationSourceName = "Microsoft.Orleans.Application";

    private static readonly string[] OtlpEndpointKeys =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    /// <summary>
    /// Adds OpenTelemetry to <paramref name="builder"/>: the meters <see cref="TrainingTelemetry.MeterName"/> and
    /// <see cref="OrleansMeterName"/> plus runtime metrics through the Prometheus exporter (served on
    /// <see cref="TelemetryOptions.PrometheusPort"/> when set); and, when an <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c>
    /// is configured, metrics, the training spans and logs through OTLP, configured by the standard
    /// <c>OTEL_*</c> variables. Turns on Orleans' activity propagation so a step's spans form one trace.
    /// Options come from the <c>Telemetry</c> configuration section, then <paramref name="configure"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The options are invalid; the message lists every
    /// problem.</exception>
    public static IHostApplicationBuilder AddDistributedBackpropTelemetry(
        this IHostApplicationBuilder builder,
        Action<TelemetryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new TelemetryOptions();
        builder.Configuration.GetSection(TelemetryOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid telemetry options: " + string.Join(" ", errors));
        }

        string serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name
            ? name
            : options.ServiceName;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName, serviceInstanceId: Environment.MachineName + "/" + Environment.ProcessId))
            .WithMetrics(metrics => metrics
                .AddMeter(TrainingTelemetry.MeterName, OrleansMeterName)
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());

        // Spans and exported logs cost a little on every grain call; without a receiver nobody would see them.
        if (OtlpEndpointKeys.Any(key => !string.IsNullOrWhiteSpace(builder.Configuration[key])))
        {
            telemetry
                .WithTracing(tracing => tracing.AddSource(
                    TrainingTelemetry.ActivitySourceName, OrleansApplicationSourceName))
                .WithLogging(_ => { }, logging =>
                {
                    logging.IncludeFormattedMessage = true;
                    logging.IncludeScopes = true;
                })
                .UseOtlpExporter();
        }

        builder.UseOrleans(silo => silo.AddActivityPropagation());
        if (options.PrometheusPort is not null)
        {
            builder.Services.AddHostedService(services => new PrometheusListener(services, options));
        }

        return builder;
    }
}
