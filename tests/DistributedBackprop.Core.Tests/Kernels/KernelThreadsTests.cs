using System.Globalization;
using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class KernelThreadsTests
{
    // Linux 6.12 and later report a fair-class thread's slice in /proc/thread-self/sched; elsewhere the calls must
    // at least leave the thread working.
    [Fact]
    public void SetCurrentThreadSlice_ShortThenZero_ThreadGetsTheSliceThenTheDefaultAgain()
    {
        long defaultSlice = -1;
        long shortSlice = -1;
        long restored = -1;
        bool setShort = false;
        bool setDefault = false;
        var thread = new Thread(() =>
        {
            defaultSlice = ReadSlice();
            setShort = KernelThreads.SetCurrentThreadSlice(250_000);
            shortSlice = ReadSlice();
            setDefault = KernelThreads.SetCurrentThreadSlice(0);
            restored = ReadSlice();
        });
        thread.Start();
        thread.Join();

        if (!OperatingSystem.IsLinux() || Environment.OSVersion.Version < new Version(6, 12))
        {
            return;
        }

        Assert.True(setShort && setDefault, "sched_setattr refused a slice");
        Assert.Equal(250_000, shortSlice);
        Assert.NotEqual(250_000, defaultSlice);
        Assert.Equal(defaultSlice, restored);
    }

    [Fact]
    public void SetCurrentThreadSlice_Negative_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.SetCurrentThreadSlice(-1));

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
