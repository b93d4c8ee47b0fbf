using System.Net;
using System.Text;
using Google.Protobuf;

namespace DistributedBackprop.Deployment.Tests.Infrastructure;

/// <summary>
/// A minimal OTLP/HTTP receiver (protobuf encoding) on 127.0.0.1: accepts POSTs to /v1/traces, /v1/metrics
/// and /v1/logs, answers 200, and decodes the few fields the tests read with Google.Protobuf's wire reader
/// (field numbers from opentelemetry-proto's trace, metrics and logs messages).
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<ReceivedSpan> _spans = [];
    private readonly HashSet<string> _metricNames = [];
    private readonly List<string> _logBodies = [];
    private readonly Task _loop;

    public OtlpReceiver()
    {
        Port = FreePorts.Take(1)[0];
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ReceiveAsync);
    }

    public int Port { get; }

    /// <summary>What OTEL_EXPORTER_OTLP_ENDPOINT should say.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<ReceivedSpan> Spans()
    {
        lock (_spans)
        {
            return _spans.ToList();
        }
    }

    public IReadOnlySet<string> MetricNames()
    {
        lock (_metricNames)
        {
            return _metricNames.ToHashSet();
        }
    }

    public IReadOnlyList<string> LogBodies()
    {
        lock (_logBodies)
        {
            return _logBodies.ToList();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's disposal.
        }
    }

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Decode(context.Request.Url!.AbsolutePath, ByteString.CopyFrom(body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    private void Decode(string path, ByteString request)
    {
        switch (path)
        {
            case "/v1/traces":
                // ExportTraceServiceRequest.resource_spans(1) > ScopeSpans(2) > Span(2).
                var spans = Nested(request, 1, 2, 2).Select(ReceivedSpan.Parse).ToList();
                lock (_spans)
                {
                    _spans.AddRange(spans);
                }

                break;
            case "/v1/metrics":
                // ExportMetricsServiceRequest.resource_metrics(1) > ScopeMetrics(2) > Metric(2), name(1).
                var names = Nested(request, 1, 2, 2).Select(m => Fields(m, 1).Single().ToStringUtf8()).ToList();
                lock (_metricNames)
                {
                    _metricNames.UnionWith(names);
                }

                break;
            case "/v1/logs":
                // ExportLogsServiceRequest.resource_logs(1) > ScopeLogs(2) > LogRecord(2), body(5) string_value(1).
                var bodies = Nested(request, 1, 2, 2)
                    .SelectMany(record => Fields(record, 5))
                    .SelectMany(value => Fields(value, 1))
                    .Select(text => text.ToStringUtf8())
                    .ToList();
                lock (_logBodies)
                {
                    _logBodies.AddRange(bodies);
                }

                break;
        }
    }

    private static IEnumerable<ByteString> Nested(ByteString message, params int[] path) =>
        path.Aggregate((IEnumerable<ByteString>)[message], (level, field) => level.SelectMany(m => Fields(m, field)));

    /// <summary>The values of every length-delimited field numbered <paramref name="field"/>.</summary>
    public static List<ByteString> Fields(ByteString message, int field)
    {
        var values = new List<ByteString>();
        var input = new CodedInputStream(message.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field
                && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                values.Add(input.ReadBytes());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return values;
    }
}

/// <summary>A received span: hex ids and its name (Span fields trace_id 1, span_id 2, parent_span_id 4,
/// name 5).</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name)
{
    public static ReceivedSpan Parse(ByteString span)
    {
        string Hex(int field) => OtlpReceiver.Fields(span, field) is [var value]
            ? Convert.ToHexString(value.ToByteArray()).ToLowerInvariant()
            : "";
        string name = OtlpReceiver.Fields(span, 5) is [var text] ? text.ToStringUtf8() : "";
        return new ReceivedSpan(Hex(1), Hex(2), Hex(4), name);
    }

    public override string ToString() => new StringBuilder(Name).Append(' ').Append(SpanId).ToString();
}
