using System.Globalization;
using DistributedBackprop.Cluster.Workers;
using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Cluster.Tests.Workers;

public sealed class ComputeThreadTests
{
    [Fact]
    public async Task RunAsync_Work_RunsInOrderOnOneOtherThreadAndReturnsItsResults()
    {
        using var compute = new ComputeThread("test compute", niceness: 0);
        var threads = new List<int>();

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => compute.RunAsync(() =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            return (i, Thread.CurrentThread.Name);
        })));

        Assert.Equal(Enumerable.Range(0, 5), results.Select(r => r.i));
        Assert.All(results, r => Assert.Equal("test compute", r.Name));
        Assert.Single(threads.Distinct());
        Assert.NotEqual(Environment.CurrentManagedThreadId, threads[0]);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_TaskFailsWithThatExceptionAndThreadGoesOn()
    {
        using var compute = new ComputeThread("test compute", niceness: 0);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => compute.RunAsync<int>(() => throw new InvalidOperationException("bad micro-batch")));
        int after = await compute.RunAsync(() => 7);

        Assert.Equal("bad micro-batch", error.Message);
        Assert.Equal(7, after);
    }

    [Fact]
    public async Task Constructor_Niceness_ThreadRunsThatManyNiceStepsBelowItsCreator()
    {
        int creator = NiceOfCurrentThread();
        using var compute = new ComputeThread("test compute", niceness: 5);

        int nice = await compute.RunAsync(NiceOfCurrentThread);

        Assert.Equal(Math.Min(19, creator + 5), nice);
        Assert.True(KernelThreads.HelperNiceness >= 5, "Core's kernel helper threads were not lowered alike");
    }

    [Fact]
    public void Constructor_NicenessOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ComputeThread("x", niceness: 20));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ComputeThread("x", niceness: -1));
    }

    // Field 19 of /proc/thread-self/stat, counted after the parenthesised command name.
    private static int NiceOfCurrentThread()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[19 - 3], CultureInfo.InvariantCulture);
    }
}
