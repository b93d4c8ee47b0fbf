using DistributedBackprop.Cluster;
using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DistributedBackprop.Server.Tests.Hosting;

public sealed class EmbeddedServerTests
{
    // The standalone server's appsettings.json lowers compute below messaging; an embedded server has no
    // transfer between silos to protect and computes at normal priority, unless its caller asks otherwise.
    [Fact]
    public async Task StartAsync_AppSettingsLowerCompute_EmbeddedSiloComputesAtNormalPriority()
    {
        var appSettings = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
            .Build();
        Assert.Equal(10, appSettings.GetValue<int>("Cluster:ComputeNiceness"));

        await using var server = await EmbeddedServer.StartAsync(LogLevel.Warning);

        Assert.Equal(0, server.Services.GetRequiredService<IOptions<TrainingSiloOptions>>().Value.ComputeNiceness);
    }

    [Fact]
    public async Task StartAsync_CallerSetsComputeNiceness_SiloTakesIt()
    {
        await using var server = await EmbeddedServer.StartAsync(
            LogLevel.Warning, new Dictionary<string, string?> { ["Cluster:ComputeNiceness"] = "5" });

        Assert.Equal(5, server.Services.GetRequiredService<IOptions<TrainingSiloOptions>>().Value.ComputeNiceness);
    }
}
