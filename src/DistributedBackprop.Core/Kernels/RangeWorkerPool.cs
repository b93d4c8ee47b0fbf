namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Runs the worker ranges of one <see cref="ParallelRanges.For"/> call on the calling thread and the shared
/// <see cref="HelperCrew"/>. Nothing is allocated per call: the body is the caller's cached delegate and
/// worker indices are handed out through an interlocked counter. One call holds the pool at a time; a call
/// that finds it busy (another thread's, or a nested one) runs its ranges inline, which gives the same
/// result because ranges are independent.
/// </summary>
internal sealed class RangeWorkerPool
{
    private readonly Action _drain;

    private int _busy;
    private Action<int, int, int>? _body;
    private int _items;
    private int _workers;
    private int _nextWorker;

    private RangeWorkerPool()
    {
        _drain = Drain;
    }

    public static RangeWorkerPool Shared { get; } = new();

    /// <summary>Runs body(w, first, end) for every worker w below <paramref name="workers"/>; returns when all are
    /// done.</summary>
    public void Run(int items, int workers, Action<int, int, int> body)
    {
        if (workers <= 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
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
            if (!HelperCrew.Shared.TryRun(workers - 1, _drain))
            {
                _drain();
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
}
