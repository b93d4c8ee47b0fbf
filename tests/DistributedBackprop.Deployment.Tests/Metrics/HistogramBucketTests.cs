using System.Text.RegularExpressions;
using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Metrics;

/// <summary>The duration histograms reach Prometheus with the buckets TrainingTelemetry chose (1 ms to 60 s),
/// not the exporter's defaults, which stop at 10 s and waste resolution below 5 ms.</summary>
[Collection(TrainedServerTests.Name)]
public sealed partial class HistogramBucketTests(TrainedServerFixture fixture)
{
    private static readonly string[] ChosenBounds =
        ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60",
         "+Inf"];

    [Theory]
    [InlineData("dbp_step_duration_seconds_bucket")]
    [InlineData("dbp_worker_step_duration_seconds_bucket")]
    public async Task DurationHistogram_LiveScrape_HasTheChosenBuckets(string series)
    {
        string scrape = await fixture.Server.ScrapeAsync();

        var bounds = scrape.Split('\n')
            .Where(line => line.StartsWith(series + "{", StringComparison.Ordinal)
                && line.Contains($"run_id=\"{fixture.RunId}\"", StringComparison.Ordinal)
                && !line.Contains("rank=\"1\"", StringComparison.Ordinal))
            .Select(line => LeLabel().Match(line).Groups[1].Value)
            .ToArray();

        Assert.Equal(ChosenBounds, bounds);
    }

    [GeneratedRegex("le=\"([^\"]+)\"")]
    private static partial Regex LeLabel();
}
