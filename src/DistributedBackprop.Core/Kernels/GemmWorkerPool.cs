namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Runs the tasks of one multi-threaded GEMM on the calling thread and the shared <see cref="HelperCrew"/>. A job
/// has two phases handed out through one interlocked counter: first the packing of the operand every task
/// shares, then the tasks that each compute a block of C, which start once the last packing task has finished.
/// One job, one wake-up: a helper that is slow to wake finds whatever work is left. Nothing is allocated per
/// call. One GEMM holds the pool at a time; a caller that finds it busy computes alone, which gives the same
/// result because no element depends on who computes it.
/// </summary>
internal sealed unsafe class GemmWorkerPool
{
    private readonly Lock _gate = new();
    private readonly Action _drain;

    private GemmProblem _problem;
    private GemmPlan _plan;
    private delegate*<in GemmProblem, in GemmPlan, int, void> _packTask;
    private delegate*<in GemmProblem, in GemmPlan, int, void> _computeTask;
    private int _packCount;
    private int _taskCount;
    private int _nextTask;
    private int _packed;

    private GemmWorkerPool()
    {
        _drain = Drain;
    }

    public static GemmWorkerPool Shared { get; } = new();

    /// <summary>
    /// Reserves the pool for one GEMM; false when another GEMM holds it. Pair with <see cref="Exit"/>.
    /// </summary>
    public bool TryEnter() => _gate.TryEnter();

    public void Exit() => _gate.Exit();

    /// <summary>
    /// Runs packTask(problem, plan, p) for every p below <paramref name="packCount"/>, then
    /// computeTask(problem, plan, t) for every t below <paramref name="computeCount"/>, on up to
    /// <paramref name="threads"/> threads, and returns when all have finished. The caller must hold the pool
    /// (<see cref="TryEnter"/>).
    /// </summary>
    public void Run(
        in GemmProblem problem,
        in GemmPlan plan,
        delegate*<in GemmProblem, in GemmPlan, int, void> packTask,
        int packCount,
        delegate*<in GemmProblem, in GemmPlan, int, void> computeTask,
        int computeCount,
        int threads)
    {
        _problem = problem;
        _plan = plan;
        _packTask = packTask;
        _computeTask = computeTask;
        _packCount = packCount;
        _taskCount = packCount + computeCount;
        _nextTask = 0;
        _packed = 0;
        if (!HelperCrew.Shared.TryRun(Math.Min(threads, computeCount) - 1, _drain))
        {
            _drain();
        }
    }

    private void Drain()
    {
        int t;
        while ((t = Interlocked.Increment(ref _nextTask) - 1) < _taskCount)
        {
            if (t < _packCount)
            {
                try
                {
                    _packTask(_problem, _plan, t);
                }
                finally
                {
                    // Counted even if it failed, so no thread waits for it forever; the failure reaches the caller.
                    Interlocked.Increment(ref _packed);
                }

                continue;
            }

            // Every packing task has been handed out; the ones still running are short.
            var wait = default(SpinWait);
            while (Volatile.Read(ref _packed) < _packCount)
            {
                wait.SpinOnce(sleep1Threshold: -1);
            }

            _computeTask(_problem, _plan, t - _packCount);
        }
    }
}
