using System.Text.RegularExpressions;
using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Offline;

/// <summary>The tensor channel's port (gradients and parameters between silos) is declared the same way in every
/// deployment file: the image exposes it and passes it to <c>dbp serve</c>; the manifests and the chart pass the
/// same port and declare it as a container port; the compose servers expose it to each other.</summary>
public sealed partial class TensorPortTests
{
    private const string Port = "11112";

    [Fact]
    public void Dockerfile_TensorPort_ExposedAndPassedToServe()
    {
        string dockerfile = Read("deploy", "Dockerfile");

        Assert.Matches(@$"(?m)^EXPOSE .*\b{Port}\b", dockerfile);
        Assert.Contains($"\"--tensor-port\", \"{Port}\"", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void KubernetesDeployment_TensorPort_PassedAsArgumentAndDeclaredAsContainerPort()
    {
        string deployment = Read("deploy", "kubernetes", "deployment.yaml");

        Assert.Matches(@$"- --tensor-port\s+- ""{Port}""", deployment);
        Assert.Matches(@$"- name: tensor\s+containerPort: {Port}\s+protocol: TCP", deployment);
    }

    [Fact]
    public void Chart_TensorPort_DefaultMatchesImageAndTemplateUsesItForArgumentAndContainerPort()
    {
        string values = Read("helm", "distributed-backprop", "values.yaml");
        string template = Read("helm", "distributed-backprop", "templates", "deployment.yaml");

        Assert.Matches(@$"(?m)^  tensorPort: {Port}$", values);
        Assert.Matches(@"- --tensor-port\s+- \{\{ \.Values\.orleans\.tensorPort \| quote \}\}", template);
        Assert.Matches(@"- name: tensor\s+containerPort: \{\{ \.Values\.orleans\.tensorPort \}\}", template);
    }

    [Fact]
    public void Compose_Servers_ExposeTensorPortToEachOther()
    {
        string compose = Read("docker-compose.yml");

        Assert.Matches(@$"expose:(\s+- ""\d+"")*\s+- ""{Port}""", compose);
    }

    [Fact]
    public void DeploymentFiles_TensorPort_DiffersFromEveryOtherDeclaredPort()
    {
        string deployment = Read("deploy", "kubernetes", "deployment.yaml");

        var ports = ContainerPort().Matches(deployment).Select(m => m.Groups[1].Value).ToList();

        Assert.Single(ports, Port);
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    private static string Read(params string[] parts) => File.ReadAllText(RepositoryPaths.Combine(parts));

    [GeneratedRegex(@"containerPort: (\d+)")]
    private static partial Regex ContainerPort();
}
