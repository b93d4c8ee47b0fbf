using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DistributedBackprop.Deployment.Tests.Infrastructure;

/// <summary>
/// A real Prometheus (Debian's <c>prometheus</c> package) scraping one target on 127.0.0.1 every second, with
/// its storage in a temporary directory, and a client for its HTTP query API.
/// </summary>
public sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output;
    private readonly HttpClient _http;

    private PrometheusProcess(Process process, string directory, StringBuilder output, Uri address)
    {
        _process = process;
        _directory = directory;
        _output = output;
        _http = new HttpClient { BaseAddress = address };
    }

    /// <summary>Starts Prometheus scraping <c>127.0.0.1:<paramref name="targetPort"/></c> and waits until it is
    /// ready.</summary>
    public static async Task<PrometheusProcess> StartAsync(int targetPort, string metricsPath = "/metrics")
    {
        string binary = Tools.Require("prometheus", "apt-get install -y prometheus");
        string directory = Path.Combine(Path.GetTempPath(), "dbp-prometheus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: distributed-backprop
                metrics_path: {metricsPath}
                static_configs:
                  - targets: ["127.0.0.1:{targetPort}"]
            """);

        int port = FreePorts.Take(1)[0];
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--config.file=" + config);
        start.ArgumentList.Add("--storage.tsdb.path=" + Path.Combine(directory, "data"));
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        start.ArgumentList.Add("--log.level=warn");
        var output = new StringBuilder();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var prometheus = new PrometheusProcess(process, directory, output, new Uri($"http://127.0.0.1:{port}/"));
        await prometheus.WaitReadyAsync(TimeSpan.FromSeconds(30));
        return prometheus;
    }

    /// <summary>Evaluates <paramref name="query"/> now; one (labels, value) pair per series of the vector.</summary>
    public async Task<IReadOnlyList<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string query)
    {
        string json = await _http.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(query));
        using var document = JsonDocument.Parse(json);
        var data = document.RootElement.GetProperty("data");
        var series = new List<(Dictionary<string, string>, double)>();
        foreach (var item in data.GetProperty("result").EnumerateArray())
        {
            var labels = item.GetProperty("metric").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            string value = item.GetProperty("value")[1].GetString()!;
            series.Add((labels, double.Parse(value, CultureInfo.InvariantCulture)));
        }

        return series;
    }

    /// <summary>Evaluates <paramref name="query"/> (one series expected) until <paramref name="done"/> holds for
    /// its value; returns the value. Scrapes happen every second, so this waits for the next ones.</summary>
    /// <exception cref="TimeoutException">Names the query and the last value seen.</exception>
    public async Task<double> WaitForValueAsync(string query, Func<double, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "no series";
        while (DateTime.UtcNow < deadline)
        {
            var result = await QueryAsync(query);
            if (result.Count == 1)
            {
                last = result[0].Value.ToString(CultureInfo.InvariantCulture);
                if (done(result[0].Value))
                {
                    return result[0].Value;
                }
            }
            else if (result.Count > 1)
            {
                last = $"{result.Count} series";
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        throw new TimeoutException(
            $"Prometheus query `{query}` did not reach the expected value within {timeout}; last: {last}. "
            + $"Prometheus said: {Output()}");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var response = await _http.GetAsync("-/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        throw new InvalidOperationException(
            $"Prometheus was not ready within {timeout} (exited: {_process.HasExited}). It said: {Output()}");
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
