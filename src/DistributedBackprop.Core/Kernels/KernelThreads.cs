using System.Runtime.InteropServices;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Scheduling priority of compute threads: a host that runs forward and backward passes below its messaging
/// (a silo, whose transfers must not wait behind a pass) lowers the thread that calls the kernels and, through
/// <see cref="HelperNiceness"/>, the kernels' own helper threads, which would otherwise compute (and poll for
/// the next job) at the normal priority.
/// </summary>
public static partial class KernelThreads
{
    private const int PriorityOfProcess = 0;

    private static int s_helperNiceness;

    /// <summary>
    /// How far below the process's priority the kernels' helper threads run: a Linux nice increment,
    /// 0-19 (elsewhere any positive value means below normal). Helpers take a new value at their next job.
    /// Lowering is allowed to anyone; going back up needs the privilege to raise a thread's priority.
    /// </summary>
    public static int HelperNiceness
    {
        get => Volatile.Read(ref s_helperNiceness);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 19);
            Volatile.Write(ref s_helperNiceness, value);
        }
    }

    /// <summary>
    /// Sets the calling thread's priority to <paramref name="niceness"/> steps below the process's. On Linux a
    /// thread's nice value is its own (setpriority on the thread id); .NET's Thread.Priority does nothing there.
    /// A failure leaves the priority as it was: only speed depends on it.
    /// </summary>
    public static void SetCurrentThreadNiceness(int niceness)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(niceness);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(niceness, 19);
        if (OperatingSystem.IsLinux())
        {
            // The process's priority is its main thread's (the thread id equal to the process id).
            int process = GetPriority(PriorityOfProcess, Environment.ProcessId);
            _ = SetPriority(PriorityOfProcess, GetThreadId(), Math.Min(19, process + niceness));
        }
        else
        {
            Thread.CurrentThread.Priority = niceness > 0 ? ThreadPriority.BelowNormal : ThreadPriority.Normal;
        }
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "getpriority")]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);
}
