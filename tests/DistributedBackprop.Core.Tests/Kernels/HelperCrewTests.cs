using System.Globalization;
using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Core.Tests.Kernels;

public sealed class HelperCrewTests
{
    [Fact]
    public void Run_ManyJobsBackToBack_EveryItemOfEveryJobRunsExactlyOnce()
    {
        var job = new CountingJob(helpers: 3);

        // Jobs alternate between sizes and gaps, so helpers are found polling, asleep, or in the middle of waking.
        for (int round = 0; round < 400; round++)
        {
            job.Start(items: 1 + round % 37);
            job.Crew.Run(helpers: 1 + round % 3, job.Drain);
            Assert.All(job.Counts, count => Assert.Equal(1, count));
            if (round % 50 == 0)
            {
                Thread.Sleep(2);
            }
        }
    }

    [Fact]
    public void Run_AfterHelpersFellAsleep_StillFinishesEveryItem()
    {
        var job = new CountingJob(helpers: 1);
        job.Start(items: 8);
        job.Crew.Run(helpers: 1, job.Drain);

        // Well past the poll, so the helper sleeps and must be woken (or the caller does everything itself).
        Thread.Sleep(HelperCrew.PollMicroseconds / 1000 + 50);
        job.Start(items: 64);
        job.Crew.Run(helpers: 1, job.Drain);

        Assert.All(job.Counts, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Run_HelperDrainThrows_RethrowsOnTheCallerAndTheNextJobRuns()
    {
        using var failing = new ThrowingJob();
        var crew = new HelperCrew("TestCrew", 1, failing.Drain);

        // The caller's own drain waits until the helper has joined and thrown, so the failure is certain.
        var error = Assert.Throws<InvalidOperationException>(() => crew.Run(1, failing.WaitForHelper));
        Assert.Equal("helper failed", error.Message);

        failing.Armed = false;
        crew.Run(1, failing.WaitForHelper);
    }

    [Fact]
    public void Run_CallerDrainThrows_WaitsForTheHelperThatJoinedThenRethrows()
    {
        using var started = new ManualResetEventSlim(false);
        bool helperFinished = false;
        var crew = new HelperCrew("TestCrew", 1, () =>
        {
            started.Set();
            Thread.Sleep(100);
            Volatile.Write(ref helperFinished, true);
        });

        var error = Assert.Throws<InvalidOperationException>(() => crew.Run(1, () =>
        {
            Assert.True(started.Wait(TimeSpan.FromSeconds(10)), "the helper never joined");
            throw new InvalidOperationException("caller failed");
        }));

        Assert.Equal("caller failed", error.Message);
        Assert.True(Volatile.Read(ref helperFinished), "Run returned while a helper was still in the job");
    }

    [Fact]
    public void Run_NoHelpersAsked_RunsOnlyOnTheCaller()
    {
        var job = new CountingJob(helpers: 2);
        job.Start(items: 10);
        int caller = Environment.CurrentManagedThreadId;
        bool onlyCaller = true;
        job.OnItem = () => onlyCaller &= Environment.CurrentManagedThreadId == caller;

        job.Crew.Run(helpers: 0, job.Drain);

        Assert.True(onlyCaller);
        Assert.All(job.Counts, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Run_HelperNicenessSet_HelpersComputeThatFarBelowTheProcess()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int helperNice = int.MinValue;
        using var joined = new ManualResetEventSlim(false);
        var crew = new HelperCrew("TestCrew", 1, () =>
        {
            helperNice = Nice("/proc/thread-self/stat");
            joined.Set();
        });
        int before = KernelThreads.HelperNiceness;
        try
        {
            KernelThreads.HelperNiceness = 4;
            crew.Run(1, () => Assert.True(joined.Wait(TimeSpan.FromSeconds(10)), "the helper never joined"));
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

    private sealed class CountingJob
    {
        private int _next;

        public CountingJob(int helpers)
        {
            Crew = new HelperCrew("TestCrew", helpers, Drain);
        }

        public HelperCrew Crew { get; }

        public int[] Counts { get; private set; } = [];

        public Action? OnItem { get; set; }

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
                OnItem?.Invoke();
                Interlocked.Increment(ref Counts[item]);
                Thread.SpinWait(200);
            }
        }
    }

    private sealed class ThrowingJob : IDisposable
    {
        private readonly ManualResetEventSlim _helperRan = new(false);

        public void Dispose() => _helperRan.Dispose();

        public bool Armed { get; set; } = true;

        public void Drain()
        {
            _helperRan.Set();
            if (Armed)
            {
                throw new InvalidOperationException("helper failed");
            }
        }

        public void WaitForHelper()
        {
            Assert.True(_helperRan.Wait(TimeSpan.FromSeconds(10)), "the helper never joined");
            _helperRan.Reset();
        }
    }
}
