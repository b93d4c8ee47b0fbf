using System.Globalization;
using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class HelperCrewTests
{
    [Fact]
    public void TryRun_ManyJobsBackToBack_EveryItemOfEveryJobRunsExactlyOnce()
    {
        var crew = new HelperCrew("TestCrew", 3);
        var job = new CountingJob();

        // Jobs alternate between sizes and gaps, so helpers are found polling, asleep, or in the middle of waking.
        for (int round = 0; round < 400; round++)
        {
            job.Start(items: 1 + round % 37);
            Assert.True(crew.TryRun(helpers: 1 + round % 3, job.Drain));
            Assert.All(job.Counts, count => Assert.Equal(1, count));
            if (round % 50 == 0)
            {
                Thread.Sleep(2);
            }
        }
    }

    [Fact]
    public void TryRun_AfterHelpersFellAsleep_StillFinishesEveryItem()
    {
        var crew = new HelperCrew("TestCrew", 1);
        var job = new CountingJob();
        job.Start(items: 8);
        crew.TryRun(helpers: 1, job.Drain);

        // Well past the poll, so the helper sleeps and must be woken (or the caller does everything itself).
        Thread.Sleep(HelperCrew.PollMicroseconds / 1000 + 50);
        job.Start(items: 64);
        Assert.True(crew.TryRun(helpers: 1, job.Drain));

        Assert.All(job.Counts, count => Assert.Equal(1, count));
    }

    [Fact]
    public void TryRun_HelperThrows_RethrowsOnTheCallerAndTheNextJobRuns()
    {
        var crew = new HelperCrew("TestCrew", 1);
        using var job = new TwoSidedJob { HelperThrows = true };

        // The caller's side waits until the helper has joined (and thrown), so the failure is certain.
        var error = Assert.Throws<InvalidOperationException>(() => crew.TryRun(1, job.Drain));
        Assert.Equal("helper failed", error.Message);

        job.HelperThrows = false;
        Assert.True(crew.TryRun(1, job.Drain));
    }

    [Fact]
    public void TryRun_CallerThrows_WaitsForTheHelperThatJoinedThenRethrows()
    {
        var crew = new HelperCrew("TestCrew", 1);
        using var job = new TwoSidedJob { CallerThrows = true, HelperSleeps = TimeSpan.FromMilliseconds(100) };

        var error = Assert.Throws<InvalidOperationException>(() => crew.TryRun(1, job.Drain));

        Assert.Equal("caller failed", error.Message);
        Assert.True(job.HelperFinished, "TryRun returned while a helper was still in the job");
    }

    [Fact]
    public void TryRun_CrewBusyWithAnotherJob_ReturnsFalseAndRunsNothing()
    {
        var crew = new HelperCrew("TestCrew", 1);
        bool? nested = null;
        int nestedRuns = 0;
        using var outer = new TwoSidedJob
        {
            OnCaller = () => nested = crew.TryRun(1, () => Interlocked.Increment(ref nestedRuns)),
        };

        Assert.True(crew.TryRun(1, outer.Drain));

        Assert.False(nested);
        Assert.Equal(0, nestedRuns);
    }

    [Fact]
    public void TryRun_NoHelpersAsked_ReturnsFalseAndRunsNothing()
    {
        var crew = new HelperCrew("TestCrew", 2);
        var job = new CountingJob();
        job.Start(items: 10);

        Assert.False(crew.TryRun(helpers: 0, job.Drain));
        Assert.All(job.Counts, count => Assert.Equal(0, count));
    }

    [Fact]
    public void TryRun_HelperNicenessSet_HelpersComputeThatFarBelowTheProcess()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var crew = new HelperCrew("TestCrew", 1);
        int helperNice = int.MinValue;
        using var job = new TwoSidedJob { OnHelper = () => helperNice = Nice("/proc/thread-self/stat") };
        int before = KernelThreads.HelperNiceness;
        try
        {
            KernelThreads.HelperNiceness = 4;
            Assert.True(crew.TryRun(1, job.Drain));
        }
        finally
        {
            KernelThreads.HelperNiceness = before;
        }

        Assert.Equal(Math.Min(19, Nice("/proc/self/stat") + 4), helperNice);
    }

    // Field 19 of a /proc stat file, counted after the parenthesised command name; /proc/self is the main thread.
    private static int Nice(string statFile)
    {
        string stat = File.ReadAllText(statFile);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[19 - 3], CultureInfo.InvariantCulture);
    }

    // Items handed out through a counter, as the GEMM and range pools do.
    private sealed class CountingJob
    {
        private int _next;

        public int[] Counts { get; private set; } = [];

        public void Start(int items)
        {
            Counts = new int[items];
            _next = 0;
        }

        public void Drain()
        {
            int item;
            while ((item = Interlocked.Increment(ref _next) - 1) < Counts.Length)
            {
                Interlocked.Increment(ref Counts[item]);
                Thread.SpinWait(200);
            }
        }
    }

    // A job whose drain does one thing on the thread that called TryRun and another on the helper; the caller's
    // side waits until the helper has joined, so both sides always run.
    private sealed class TwoSidedJob : IDisposable
    {
        private readonly int _caller = Environment.CurrentManagedThreadId;
        private readonly SemaphoreSlim _helperJoined = new(0);
        private bool _helperFinished;

        public bool HelperThrows { get; set; }

        public bool CallerThrows { get; set; }

        public TimeSpan HelperSleeps { get; init; }

        public Action? OnHelper { get; init; }

        public Action? OnCaller { get; init; }

        public bool HelperFinished => Volatile.Read(ref _helperFinished);

        public void Dispose() => _helperJoined.Dispose();

        public void Drain()
        {
            if (Environment.CurrentManagedThreadId != _caller)
            {
                _helperJoined.Release();
                OnHelper?.Invoke();
                Thread.Sleep(HelperSleeps);
                Volatile.Write(ref _helperFinished, true);
                if (HelperThrows)
                {
                    throw new InvalidOperationException("helper failed");
                }

                return;
            }

            Assert.True(_helperJoined.Wait(TimeSpan.FromSeconds(10)), "the helper never joined");
            OnCaller?.Invoke();
            if (CallerThrows)
            {
                throw new InvalidOperationException("caller failed");
            }
        }
    }
}
