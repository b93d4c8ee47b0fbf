using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// The kernels' background threads, shared by every multi-threaded kernel of the process (GEMM, the range
/// splits of pooling, BatchNorm, convolution and the parameter update), so that they never compete with each
/// other for cores. They join the calling thread on one job at a time: the caller opens a number of places, a
/// helper that takes one runs the job's drain loop (which pulls work items from a shared counter) and reports
/// back. The caller drains too, then closes the places that nobody took and waits only for the helpers that
/// did: a helper that is slow to wake costs the job nothing but its help. A caller that finds the crew busy
/// with another job runs its own alone, which gives the same result because no item depends on who runs it.
/// </summary>
/// <remarks>
/// Between jobs a helper keeps polling for a while before it sleeps. A training step calls its kernels back to
/// back with microseconds between them, and waking a sleeping thread takes tens to hundreds of microseconds (on
/// a virtual machine the idle CPU has halted and the hypervisor must resume it), as long as a small GEMM takes.
/// The poll ends after <see cref="PollMicroseconds"/>, so an idle process keeps no core busy. Helpers run at
/// <see cref="KernelThreads.HelperNiceness"/>, taken up at their next job.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "A process-lifetime singleton whose threads never exit.")]
internal sealed class HelperCrew
{
    /// <summary>How long a helper looks for the next job before it sleeps.</summary>
    public const int PollMicroseconds = 200;

    private static readonly long PollTicks = Stopwatch.Frequency * PollMicroseconds / 1_000_000;

    private readonly string _name;
    private readonly int _helperCount;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ManualResetEventSlim _finished = new(false);
    private bool _started;
    private int _busy;
    private Action? _drain;
    private int _openPlaces;
    private int _finishedHelpers;
    private int _sleepers;
    private Exception? _failure;

    /// <param name="name">Thread name prefix.</param>
    /// <param name="helperCount">Threads besides the caller.</param>
    public HelperCrew(string name, int helperCount)
    {
        _name = name;
        _helperCount = helperCount;
    }

    /// <summary>One helper fewer than the processor count.</summary>
    public static HelperCrew Shared { get; } = new("KernelHelper", Math.Max(0, Environment.ProcessorCount - 1));

    /// <summary>
    /// Runs <paramref name="drain"/> on this thread and on up to <paramref name="helpers"/> helpers, and returns
    /// true when every one that joined has finished; rethrows the first exception a helper's drain threw (the
    /// caller's own exception comes first, once every helper that joined has finished). Returns false at once,
    /// without running anything, when no helper is asked for or the crew is busy with another job: the caller
    /// then drains alone. <paramref name="drain"/> must end when the job's work items are used up, on any thread.
    /// </summary>
    public bool TryRun(int helpers, Action drain)
    {
        helpers = Math.Min(helpers, _helperCount);
        if (helpers <= 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            Run(helpers, drain);
        }
        finally
        {
            _drain = null;
            Volatile.Write(ref _busy, 0);
        }

        return true;
    }

    private void Run(int helpers, Action drain)
    {
        EnsureStarted();
        _drain = drain;
        _failure = null;
        _finishedHelpers = 0;
        _finished.Reset();

        // A full fence: a helper that takes a place sees the job's state written before this call.
        Interlocked.Exchange(ref _openPlaces, helpers);
        int sleepers = Volatile.Read(ref _sleepers);
        if (sleepers > 0)
        {
            _wake.Release(Math.Min(sleepers, helpers));
        }

        try
        {
            drain();
        }
        finally
        {
            // Also when the caller's drain threw: no helper may still be in this job once Run returns.
            int joined = helpers - Interlocked.Exchange(ref _openPlaces, 0);
            while (Volatile.Read(ref _finishedHelpers) < joined)
            {
                // A helper counts itself before it sets the event, so a set lost to this reset is seen by the count.
                _finished.Wait();
                _finished.Reset();
            }
        }

        if (_failure is { } failure)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private void EnsureStarted()
    {
        if (_started)
        {
            return;
        }

        for (int i = 0; i < _helperCount; i++)
        {
            new Thread(HelperLoop) { IsBackground = true, Name = $"{_name}{i}" }.Start();
        }

        _started = true;
    }

    private void HelperLoop()
    {
        int niceness = 0;
        while (true)
        {
            if (TryTakePlace())
            {
                if (KernelThreads.HelperNiceness != niceness)
                {
                    niceness = KernelThreads.HelperNiceness;
                    KernelThreads.SetCurrentThreadNiceness(niceness);
                }

                try
                {
                    _drain!();
                }
                catch (Exception exception)
                {
                    Interlocked.CompareExchange(ref _failure, exception, null);
                }

                Interlocked.Increment(ref _finishedHelpers);
                _finished.Set();
                continue;
            }

            if (PollForPlace())
            {
                continue;
            }

            // Counted as a sleeper before the last look, and the caller opens places before it counts sleepers:
            // one of the two sees the other, so a job is never missed by a helper that stays asleep. A wake-up
            // left over from a race only costs one more poll.
            Interlocked.Increment(ref _sleepers);
            if (Volatile.Read(ref _openPlaces) == 0)
            {
                _wake.Wait();
            }

            Interlocked.Decrement(ref _sleepers);
        }
    }

    private bool TryTakePlace()
    {
        int places = Volatile.Read(ref _openPlaces);
        while (places > 0)
        {
            int seen = Interlocked.CompareExchange(ref _openPlaces, places - 1, places);
            if (seen == places)
            {
                return true;
            }

            places = seen;
        }

        return false;
    }

    private bool PollForPlace()
    {
        long deadline = Stopwatch.GetTimestamp() + PollTicks;
        do
        {
            if (Volatile.Read(ref _openPlaces) > 0)
            {
                return true;
            }

            Thread.SpinWait(16);
        }
        while (Stopwatch.GetTimestamp() < deadline);

        return false;
    }
}
