using System.Collections.Concurrent;
using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Cluster.Workers;

/// <summary>
/// A worker's own thread for forward and backward passes, running below the priority of the silo's other
/// threads. A step's compute keeps a core busy for milliseconds; on the grain's turn it would hold a thread-pool
/// thread at the priority of the tensor channel's readers, the reducers' turns and Orleans' own messaging, and a
/// transfer arriving for this silo would wait for a time slice behind it. Below them, the kernel lets the
/// waiting thread in as soon as it wakes, and the compute still gets every cycle nobody else wants. Results do
/// not depend on the thread. Work runs one item at a time in the order given. A worker with more than one
/// kernel thread also uses Core's shared GEMM and range helper threads, which are lowered alike.
/// </summary>
internal sealed class ComputeThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];

    /// <param name="niceness">How far below the silo's other threads to run: a Linux nice increment (1-19);
    /// elsewhere any positive value means below normal. 0 keeps the normal priority.</param>
    public ComputeThread(string name, int niceness)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(niceness);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(niceness, 19);
        new Thread(() => Serve(niceness)) { IsBackground = true, Name = name }.Start();
    }

    /// <summary>Runs <paramref name="work"/> on this thread; the task ends with its result or exception.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var done = new TaskCompletionSource<T>();
        _work.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception exception)
            {
                done.SetException(exception);
            }
        });
        return done.Task;
    }

    /// <summary>Ends the thread once the work already given has run.</summary>
    public void Dispose() => _work.CompleteAdding();

    private void Serve(int niceness)
    {
        LowerPriority(niceness);
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }

        _work.Dispose();
    }

    // Core's kernel helper threads follow, so that a worker with more than one kernel thread computes below
    // messaging on all of them (every worker of a silo has the same niceness).
    private static void LowerPriority(int niceness)
    {
        if (niceness == 0)
        {
            return;
        }

        KernelThreads.SetCurrentThreadNiceness(niceness);
        KernelThreads.HelperNiceness = Math.Max(KernelThreads.HelperNiceness, niceness);
    }
}
