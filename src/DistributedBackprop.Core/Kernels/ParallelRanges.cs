namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Splits independent items (the samples of a batch, the channels of a layer) into contiguous ranges, one per
/// worker. Only for work whose per-item results go to disjoint places and are computed the same way whichever
/// worker runs them, so results do not depend on the thread count; any sum across items happens afterwards, in
/// item order, on one thread.
/// </summary>
internal static class ParallelRanges
{
    public static int Workers(int items, int threads) => Math.Clamp(threads, 1, Math.Max(1, items));

    /// <summary>
    /// Runs body(worker, firstItem, endItem) for every worker; inline when there is one, else on the calling
    /// thread and <see cref="RangeWorkerPool"/>'s threads. Allocates nothing when body is a cached delegate.
    /// </summary>
    public static void For(int items, int threads, Action<int, int, int> body)
    {
        int workers = Workers(items, threads);
        if (workers == 1)
        {
            body(0, 0, items);
            return;
        }

        RunWorkers(items, workers, body);
    }

    private static void RunWorkers(int items, int workers, Action<int, int, int> body) =>
        RangeWorkerPool.Shared.Run(items, workers, body);
}
