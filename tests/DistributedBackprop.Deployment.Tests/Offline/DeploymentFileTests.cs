using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Offline;

/// <summary>
/// Done-when 4 of the observability issue: the deployment files checked offline, each by the tool that owns its
/// format (tests/run-all.sh installs them): Debian's docker-compose, Prometheus' promtool, and node scripts in
/// tests/deployment-checks using npm kubernetes-models (Kubernetes object schemas) and ajv (the chart's values
/// schema).
/// </summary>
public sealed class DeploymentFileTests
{
    private static readonly string ChecksDirectory = RepositoryPaths.Combine("tests", "deployment-checks");

    [Fact]
    public async Task DockerCompose_ConfigQuiet_AcceptsTheComposeFile()
    {
        string compose = Tools.Require("docker-compose", "apt-get install -y --no-install-recommends docker-compose");

        var (exitCode, output) = await Tools.RunAsync(
            compose, RepositoryPaths.Root, "-f", "docker-compose.yml", "config", "-q");

        Assert.True(exitCode == 0, $"docker-compose config -q rejected docker-compose.yml: {output}");
    }

    [Fact]
    public async Task DockerCompose_Services_AreRedisThreeServersCollectorPrometheusAndGrafana()
    {
        string compose = Tools.Require("docker-compose", "apt-get install -y --no-install-recommends docker-compose");

        var (exitCode, output) = await Tools.RunAsync(
            compose, RepositoryPaths.Root, "-f", "docker-compose.yml", "config", "--services");

        Assert.True(exitCode == 0, $"docker-compose config --services failed: {output}");
        string[] expected = ["grafana", "otel-collector", "prometheus", "redis", "server-1", "server-2", "server-3"];
        Assert.Equal(expected, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }

    [Fact]
    public async Task DockerCompose_ResolvedConfig_PublishesOnlyServerOnesGrpcPortAndSharesOneRedisCluster()
    {
        string compose = Tools.Require("docker-compose", "apt-get install -y --no-install-recommends docker-compose");

        var (exitCode, output) = await Tools.RunAsync(
            compose, RepositoryPaths.Root, "-f", "docker-compose.yml", "config");

        Assert.True(exitCode == 0, $"docker-compose config failed: {output}");
        Assert.Equal(3, Count(output, "Cluster__ClusterId: dbp-compose"));
        Assert.Equal(3, Count(output, "Cluster__Redis: redis:6379"));
        Assert.Equal(1, Count(output, "target: 50051"));
    }

    [Fact]
    public async Task PrometheusConfig_PromtoolCheckConfig_Succeeds()
    {
        string promtool = Tools.Require("promtool", "apt-get install -y prometheus");

        var (exitCode, output) = await Tools.RunAsync(
            promtool, RepositoryPaths.Root, "check", "config", "deploy/prometheus/prometheus.yml");

        Assert.True(exitCode == 0, $"promtool check config rejected deploy/prometheus/prometheus.yml: {output}");
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KubernetesManifests_KubernetesModels_ValidWithNoUnknownFieldsAndOnePerTemplate()
    {
        var (exitCode, output) = await RunCheckAsync("validate-manifests.mjs");

        Assert.True(exitCode == 0, $"kubernetes-models checks of deploy/kubernetes failed:\n{output}");
        Assert.Contains(
            "ok   known fields  deployment.yaml Deployment/distributed-backprop", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChartValues_Ajv_ValidAgainstSchemaEveryTemplateValueDefinedAndDocumented()
    {
        var (exitCode, output) = await RunCheckAsync("validate-chart-values.mjs");

        Assert.True(exitCode == 0, $"ajv and template checks of helm/distributed-backprop failed:\n{output}");
        Assert.Contains("ok   schema        values.yaml is valid against values.schema.json", output,
            StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunCheckAsync(string script)
    {
        string node = Tools.Require("node", "apt-get install -y nodejs npm");
        Assert.True(Directory.Exists(Path.Combine(ChecksDirectory, "node_modules")),
            "tests/deployment-checks/node_modules is missing; run `npm ci` there (tests/run-all.sh does).");
        return await Tools.RunAsync(node, ChecksDirectory, script, RepositoryPaths.Root);
    }

    private static int Count(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0;
             i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
