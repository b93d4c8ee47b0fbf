using DistributedBackprop.Cluster.Transport;

namespace DistributedBackprop.Cluster.Tests.Transport;

public sealed class SocketStreamsTests : IDisposable
{
    private readonly string _limitFile = Path.GetTempFileName();

    public void Dispose() => File.Delete(_limitFile);

    // Linux caps an explicit socket buffer at net.core.[rw]mem_max: below 4 MB the channel leaves sizing to the
    // kernel.
    [Theory]
    [InlineData("212992\n", false)]
    [InlineData("4194303\n", false)]
    [InlineData("4194304\n", true)]
    [InlineData("16777216", true)]
    [InlineData("not a number", false)]
    public void KernelLimitAllows_LimitFile_TrueOnlyFromFourMegabytes(string contents, bool expected)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        File.WriteAllText(_limitFile, contents);

        Assert.Equal(expected, SocketStreams.KernelLimitAllows(_limitFile));
    }

    [Fact]
    public void KernelLimitAllows_MissingFile_False()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Assert.False(SocketStreams.KernelLimitAllows(_limitFile + ".missing"));
    }
}
