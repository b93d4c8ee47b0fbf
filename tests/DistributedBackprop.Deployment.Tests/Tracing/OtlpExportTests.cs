using DistributedBackprop.Cluster.Telemetry;
using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Tracing;

/// <summary>Done-when 3 of the observability issue: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local OTLP
/// receiver, the server exports the step spans (one trace per step, reaching across grains), the training
/// metrics and its logs.</summary>
[Collection(LiveServerTests.Name)]
public sealed class OtlpExportTests
{
    private static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OtlpEndpoint_TrainingRun_ReceivesLinkedStepSpansMetricsAndLogs()
    {
        using var receiver = new OtlpReceiver();
        using var dataset = SyntheticDataset.Small();
        string runId = "otlp-" + Guid.NewGuid().ToString("N")[..8];
        var spec = Specs.Small(dataset.Directory, workers: 2, shards: 2);
        spec.Epochs = 1;
        int steps = 256 / spec.BatchSize;

        await using (var server = await LiveServer.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["Logging:LogLevel:DistributedBackprop"] = "Information",
        }))
        {
            await server.TrainAsync(runId, spec);
            await WaitAsync(() => receiver.Spans().Count(s => s.Name == TrainingTelemetry.StepSpan) >= steps,
                $"{steps} {TrainingTelemetry.StepSpan} spans");
            await WaitAsync(() => receiver.MetricNames().Contains("dbp.samples.trained"), "the samples metric");
            await WaitAsync(() => receiver.LogBodies().Any(b => b.Contains(runId, StringComparison.Ordinal)),
                "a log record naming the run");
        }

        var spans = receiver.Spans();
        var byId = spans.ToDictionary(s => s.SpanId);
        var stepSpans = spans.Where(s => s.Name == TrainingTelemetry.StepSpan).ToList();
        Assert.Equal(steps, stepSpans.Count);
        Assert.Equal(steps, stepSpans.Select(s => s.TraceId).Distinct().Count());
        Assert.All(stepSpans, s => Assert.Equal("", s.ParentSpanId));

        // Every worker's compute span descends, through the Orleans grain-call spans, from its step's span.
        var computeSpans = spans.Where(s => s.Name == TrainingTelemetry.WorkerComputeSpan).ToList();
        Assert.Equal(steps * spec.Workers, computeSpans.Count);
        Assert.All(computeSpans, s => Assert.Equal(TrainingTelemetry.StepSpan, Root(s, byId).Name));
        Assert.All(spans.Where(s => s.Name is TrainingTelemetry.ReduceSpan or TrainingTelemetry.OptimizerSpan),
            s => Assert.Equal(TrainingTelemetry.StepSpan, byId[s.ParentSpanId].Name));
        Assert.Contains(spans, s => s.Name == TrainingTelemetry.SiloReduceSpan
            && Root(s, byId).Name == TrainingTelemetry.StepSpan);

        var metrics = receiver.MetricNames();
        Assert.Contains("dbp.step.duration", metrics);
        Assert.Contains("dbp.gradient.sent", metrics);
        Assert.Contains(metrics, name => name.StartsWith("orleans-", StringComparison.Ordinal)
            || name.StartsWith("orleans.", StringComparison.Ordinal));
    }

    // Follows parents up to the trace root; fails if a parent was not exported (a broken chain).
    private static ReceivedSpan Root(ReceivedSpan span, Dictionary<string, ReceivedSpan> byId)
    {
        var current = span;
        while (current.ParentSpanId.Length > 0)
        {
            Assert.True(byId.TryGetValue(current.ParentSpanId, out var parent),
                $"The parent {current.ParentSpanId} of {current} (under {span}) was not exported.");
            current = parent;
        }

        return current;
    }

    private static async Task WaitAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + ExportWait;
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"The OTLP receiver did not get {what} within {ExportWait}.");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }
}
