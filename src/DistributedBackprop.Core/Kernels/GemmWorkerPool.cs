using System.Diagnostics.CodeAnalysis;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Persistent background threads that help the calling thread run the tasks of one GEMM. A call hands out
/// task indices through an interlocked counter and waits until every helper it woke has finished, so
/// nothing is allocated per call. One GEMM holds the pool at a time; a caller that finds it busy computes
/// alone, which gives the same result because no element depends on who computes it.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "A process-lifetime singleton whose threads never exit.")]
internal sealed unsafe class GemmWorkerPool
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private readonly int _helperCount;

    private bool _started;
    private GemmProblem _problem;
    private GemmPlan _plan;
    private delegate*<in GemmProblem, in GemmPlan, int, void> _runTask;
    private int _taskCount;
    private int _nextTask;
    private int _pendingHelpers;

    private GemmWorkerPool(int helperCount)
    {
        _helperCount = helperCount;
    }

    public static GemmWorkerPool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    /// <summary>
    /// Reserves the pool for one GEMM; false when another GEMM holds it. Pair with <see cref="Exit"/>.
    /// </summary>
    public bool TryEnter() => _gate.TryEnter();

    public void Exit() => _gate.Exit();

    /// <summary>
    /// Runs runTask(problem, plan, t) for every t in [0, taskCount) on up to threads threads and returns when
    /// all have finished. The caller must hold the pool (<see cref="TryEnter"/>).
    /// </summary>
    public void Run(
        in GemmProblem problem,
        in GemmPlan plan,
        delegate*<in GemmProblem, in GemmPlan, int, void> runTask,
        int taskCount,
        int threads)
    {
        _problem = problem;
        _plan = plan;
        _runTask = runTask;
        _taskCount = taskCount;
        _nextTask = 0;

        int helpers = Math.Min(Math.Min(threads, taskCount) - 1, _helperCount);
        if (helpers > 0)
        {
            EnsureStarted();
            _pendingHelpers = helpers;
            _done.Reset();

            // Release is a full fence: helpers see the job fields written above.
            _wake.Release(helpers);
        }

        Drain();
        if (helpers > 0)
        {
            _done.Wait();
        }
    }

    private void Drain()
    {
        int t;
        while ((t = Interlocked.Increment(ref _nextTask) - 1) < _taskCount)
        {
            _runTask(_problem, _plan, t);
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
            var thread = new Thread(HelperLoop) { IsBackground = true, Name = $"GemmWorker{i}" };
            thread.Start();
        }

        _started = true;
    }

    private void HelperLoop()
    {
        while (true)
        {
            _wake.Wait();
            Drain();
            if (Interlocked.Decrement(ref _pendingHelpers) == 0)
            {
                _done.Set();
            }
        }
    }
}
