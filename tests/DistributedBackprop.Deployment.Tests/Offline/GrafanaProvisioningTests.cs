using System.Text.Json;
using System.Text.RegularExpressions;
using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Offline;

/// <summary>The dashboard and Grafana's provisioning files agree: every panel and query names the provisioned
/// Prometheus datasource, and the dashboard provider loads the directory docker-compose.yml mounts the dashboards
/// at.</summary>
public sealed partial class GrafanaProvisioningTests
{
    private static readonly string Grafana = RepositoryPaths.Combine("deploy", "grafana");

    [Fact]
    public void Dashboard_EveryDatasourceUid_IsTheProvisionedPrometheus()
    {
        string datasources = File.ReadAllText(
            Path.Combine(Grafana, "provisioning", "datasources", "prometheus.yaml"));
        string provisioned = Uid().Match(datasources).Groups[1].Value;
        using var dashboard = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(Grafana, "dashboards", "distributed-backprop.json")));

        var uids = new List<string>();
        CollectDatasourceUids(dashboard.RootElement, uids);

        Assert.Equal("prometheus", provisioned);
        Assert.NotEmpty(uids);
        Assert.All(uids, uid => Assert.Equal(provisioned, uid));
    }

    [Fact]
    public void DashboardProvider_Path_IsWhereComposeMountsTheDashboards()
    {
        string provider = File.ReadAllText(
            Path.Combine(Grafana, "provisioning", "dashboards", "distributed-backprop.yaml"));
        string compose = File.ReadAllText(RepositoryPaths.Combine("docker-compose.yml"));

        string path = ProviderPath().Match(provider).Groups[1].Value;

        Assert.Equal("/var/lib/grafana/dashboards", path);
        Assert.Contains($"./deploy/grafana/dashboards:{path}:ro", compose, StringComparison.Ordinal);
    }

    private static void CollectDatasourceUids(JsonElement element, List<string> uids)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "datasource" && property.Value.ValueKind == JsonValueKind.Object)
                {
                    uids.Add(property.Value.GetProperty("uid").GetString()!);
                }
                else
                {
                    CollectDatasourceUids(property.Value, uids);
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                CollectDatasourceUids(item, uids);
            }
        }
    }

    [GeneratedRegex(@"^\s+uid: (\S+)$", RegexOptions.Multiline)]
    private static partial Regex Uid();

    [GeneratedRegex(@"^\s+path: (\S+)$", RegexOptions.Multiline)]
    private static partial Regex ProviderPath();
}
