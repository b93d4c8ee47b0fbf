using System.Globalization;
using DistributedBackprop.Cluster.Transport;

namespace DistributedBackprop.Cluster.Tests.Transport;

public sealed class ShortSliceTests
{
    // Linux 6.12 and later take a fair-class thread's own slice from sched_setattr and report it in
    // /proc/thread-self/sched; elsewhere the call must at least leave the thread working as before.
    [Fact]
    public void ApplyToCurrentThread_OnLinux612OrLater_ThreadReportsTheShortSliceAndOthersKeepTheirs()
    {
        bool applied = false;
        long ownSlice = -1;
        var thread = new Thread(() =>
        {
            applied = ShortSlice.ApplyToCurrentThread();
            ownSlice = ReadSlice();
        });
        thread.Start();
        thread.Join();

        if (!OperatingSystem.IsLinux() || Environment.OSVersion.Version < new Version(6, 12))
        {
            return;
        }

        Assert.True(applied, "sched_setattr refused the short slice");
        Assert.Equal((long)ShortSlice.Nanoseconds, ownSlice);
        Assert.NotEqual((long)ShortSlice.Nanoseconds, ReadSlice());
    }

    private static long ReadSlice()
    {
        foreach (var line in File.ReadLines("/proc/thread-self/sched"))
        {
            if (line.StartsWith("se.slice", StringComparison.Ordinal))
            {
                return long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }
}
