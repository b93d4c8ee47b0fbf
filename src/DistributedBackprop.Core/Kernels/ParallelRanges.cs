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

    /// <summary>Runs body(worker, firstItem, endItem) for every worker; inline when there is one.</summary>
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

    // Separate from For so the closure below is only allocated when work is actually split; Parallel.For itself
    // allocates a little per call, acceptable next to the work of a layer.
    private static void RunWorkers(int items, int workers, Action<int, int, int> body) =>
        Parallel.For(
            0,
            workers,
            new ParallelOptions { MaxDegreeOfParallelism = workers },
            worker =>
            {
                int first = (int)((long)items * worker / workers);
                int end = (int)((long)items * (worker + 1) / workers);
                body(worker, first, end);
            });
}
