using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Persistent background threads that run the worker ranges of one <see cref="ParallelRanges.For"/> call
/// beside the calling thread. Nothing is allocated per call: the body is the caller's cached delegate and
/// worker indices are handed out through an interlocked counter. One call holds the pool at a time; a call
/// that finds it busy (another thread's, or a nested one) runs its ranges inline, which gives the same
/// result because ranges are independent.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "A process-lifetime singleton whose threads never exit.")]
internal sealed class RangeWorkerPool
{
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private readonly int _helperCount;

    private int _busy;
    private bool _started;
    private Action<int, int, int>? _body;
    private int _items;
    private int _workers;
    private int _nextWorker;
    private int _pendingHelpers;
    private Exception? _failure;

    private RangeWorkerPool(int helperCount)
    {
        _helperCount = helperCount;
    }

    public static RangeWorkerPool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    /// <summary>Runs body(w, first, end) for every worker w below <paramref name="workers"/>; returns when all are
    /// done.</summary>
    public void Run(int items, int workers, Action<int, int, int> body)
    {
        int helpers = Math.Min(workers - 1, _helperCount);
        if (helpers <= 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int w = 0; w < workers; w++)
            {
                RunWorker(items, workers, w, body);
            }

            return;
        }

        try
        {
            _body = body;
            _items = items;
            _workers = workers;
            _nextWorker = 0;
            _failure = null;
            EnsureStarted();
            _pendingHelpers = helpers;
            _done.Reset();

            // Release is a full fence: helpers see the job fields written above.
            _wake.Release(helpers);
            Drain();
            _done.Wait();
            if (_failure is not null)
            {
                ExceptionDispatchInfo.Capture(_failure).Throw();
            }
        }
        finally
        {
            _body = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    private static void RunWorker(int items, int workers, int worker, Action<int, int, int> body)
    {
        int first = (int)((long)items * worker / workers);
        int end = (int)((long)items * (worker + 1) / workers);
        body(worker, first, end);
    }

    private void Drain()
    {
        int w;
        while ((w = Interlocked.Increment(ref _nextWorker) - 1) < _workers)
        {
            RunWorker(_items, _workers, w, _body!);
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
            var thread = new Thread(HelperLoop) { IsBackground = true, Name = $"RangeWorker{i}" };
            thread.Start();
        }

        _started = true;
    }

    private void HelperLoop()
    {
        while (true)
        {
            _wake.Wait();
            try
            {
                Drain();
            }
            catch (Exception e)
            {
                // Reported on the calling thread once every helper has finished.
                Interlocked.CompareExchange(ref _failure, e, null);
            }

            if (Interlocked.Decrement(ref _pendingHelpers) == 0)
            {
                _done.Set();
            }
        }
    }
}
