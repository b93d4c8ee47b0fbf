using DistributedBackprop.Cluster.Coordinator;

namespace DistributedBackprop.Cluster.Tests.Infrastructure;

/// <summary>Checks on which path a run's transfers took, from the coordinator's epoch timings.</summary>
public static class ChannelAssert
{
    /// <summary>Every byte that crossed silos, pushes and fetches, went over the tensor channel.</summary>
    public static async Task CarriedAllCrossSiloBytesAsync(IGrainFactory grains, string runId)
    {
        var timings = await grains.GetGrain<ICoordinatorGrain>(runId).GetEpochTimingsAsync();
        foreach (var epoch in timings)
        {
            Assert.True(epoch.Push.CrossSiloBytes > 0, $"{runId} epoch {epoch.Epoch}: no push crossed silos");
            Assert.True(epoch.Pull.CrossSiloBytes > 0, $"{runId} epoch {epoch.Epoch}: no fetch crossed silos");
            Assert.Equal(epoch.Push.CrossSiloBytes, epoch.Push.ChannelBytes);
            Assert.Equal(epoch.Pull.CrossSiloBytes, epoch.Pull.ChannelBytes);
        }
    }

    /// <summary>Bytes crossed silos, all through Orleans messaging.</summary>
    public static async Task CarriedNothingAsync(IGrainFactory grains, string runId)
    {
        var timings = await grains.GetGrain<ICoordinatorGrain>(runId).GetEpochTimingsAsync();
        Assert.All(timings, epoch =>
        {
            Assert.True(epoch.Push.CrossSiloBytes > 0, $"{runId} epoch {epoch.Epoch}: no push crossed silos");
            Assert.Equal(0, epoch.Push.ChannelBytes);
            Assert.Equal(0, epoch.Pull.ChannelBytes);
        });
    }
}
