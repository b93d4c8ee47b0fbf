using System.Text.Json;
using System.Text.RegularExpressions;
using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Metrics;

/// <summary>Done-when 2 of the observability issue: every metric the Grafana dashboard queries is exported by a
/// running server, so no panel can silently go blank after a rename.</summary>
[Collection(TrainedServerTests.Name)]
public sealed partial class DashboardMetricTests(TrainedServerFixture fixture)
{
    private static readonly string Dashboard =
        RepositoryPaths.Combine("deploy", "grafana", "dashboards", "distributed-backprop.json");

    [Fact]
    public async Task DashboardQueries_EveryMetricName_IsInALiveScrape()
    {
        var queries = DashboardQueries();
        var exported = ExportedNames(await fixture.Server.ScrapeAsync());

        var missing = queries
            .SelectMany(q => MetricNames(q).Select(name => (Name: name, Query: q)))
            .Where(m => !exported.Contains(m.Name))
            .Select(m => $"{m.Name} (in `{m.Query}`)")
            .Distinct()
            .ToList();

        Assert.True(missing.Count == 0, "Not exported by the server: " + string.Join("; ", missing));
    }

    [Fact]
    public void DashboardQueries_EveryQuery_NamesAMetricTheCheckCovers()
    {
        var queries = DashboardQueries();

        Assert.NotEmpty(queries);
        Assert.All(queries, q => Assert.True(MetricNames(q).Count > 0,
            $"`{q}` names no dbp_, orleans_ or dotnet_ metric, so the live check would not cover it."));
    }

    // Every PromQL expression of the dashboard: panel targets and template variable queries.
    private static List<string> DashboardQueries()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var queries = new List<string>();
        Collect(document.RootElement, queries);
        return queries;
    }

    private static void Collect(JsonElement element, List<string> queries)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                bool isQuery = property.Name is "expr" or "query" or "definition";
                if (isQuery && property.Value.ValueKind == JsonValueKind.String)
                {
                    queries.Add(property.Value.GetString()!);
                }
                else
                {
                    Collect(property.Value, queries);
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Collect(item, queries);
            }
        }
    }

    private static HashSet<string> MetricNames(string query) =>
        MetricName().Matches(query).Select(m => m.Value).ToHashSet();

    // Sample names of the exposition format: the text before '{' or ' ' on every non-comment line.
    private static HashSet<string> ExportedNames(string scrape) =>
        scrape.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line[..line.IndexOfAny(['{', ' '])])
            .ToHashSet();

    [GeneratedRegex(@"\b(?:dbp|orleans|dotnet)_[a-zA-Z0-9_]+\b")]
    private static partial Regex MetricName();
}
