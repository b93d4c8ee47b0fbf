namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Splits the samples of a batch into contiguous ranges, one per worker. Only for work whose per-sample results
/// are written to disjoint places and computed the same way whichever worker runs them, so the result does not
/// depend on the thread count; sums over the batch happen afterwards, in sample order, on one thread.
/// </summary>
internal static class SampleParallel
{
    public static int Workers(int samples, int threads) => Math.Clamp(threads, 1, Math.Max(1, samples));

    /// <summary>Runs body(worker, firstSample, endSample) for every worker; inline when there is one.</summary>
    public static void For(int samples, int threads, Action<int, int, int> body)
    {
        int workers = Workers(samples, threads);
        if (workers == 1)
        {
            body(0, 0, samples);
            return;
        }

        Parallel.For(
            0,
            workers,
            new ParallelOptions { MaxDegreeOfParallelism = workers },
            worker =>
            {
                int first = (int)((long)samples * worker / workers);
                int end = (int)((long)samples * (worker + 1) / workers);
                body(worker, first, end);
            });
    }
}
