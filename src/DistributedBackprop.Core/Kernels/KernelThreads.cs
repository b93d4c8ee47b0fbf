using System.Runtime.InteropServices;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Scheduling priority of compute threads: a host that runs forward and backward passes below its messaging
/// (a silo, whose transfers must not wait behind a pass) lowers the thread that calls the kernels and, through
/// <see cref="HelperNiceness"/>, the kernels' own helper threads, which would otherwise compute (and poll for
/// the next job) at the normal priority. The other way, a thread that wakes for short latency-bound work (a
/// silo's tensor transfers) can ask for a short scheduler slice (<see cref="SetCurrentThreadSlice"/>).
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

    /// <summary>
    /// Asks Linux's EEVDF scheduler (kernel 6.12 and later) for a time slice of <paramref name="nanoseconds"/> for
    /// the calling thread (clamped by the kernel to 0.1-100 ms), or 0 for the scheduler's default. A thread woken
    /// with a shorter slice than the running one preempts it instead of waiting for that slice to end; threads
    /// the caller creates afterwards inherit the setting. The nice value stays as it is. Returns whether the
    /// kernel took it; elsewhere, on older kernels or when refused, nothing changes but speed.
    /// </summary>
    public static bool SetCurrentThreadSlice(long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds);
        long number = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 314,
            Architecture.Arm64 => 274,
            _ => -1,
        };
        if (!OperatingSystem.IsLinux() || number < 0)
        {
            return false;
        }

        int thread = GetThreadId();
        var attributes = new SchedAttributes
        {
            Size = SchedAttributesSize,
            Nice = GetPriority(PriorityOfProcess, thread),
            Runtime = (ulong)nanoseconds,
        };
        return SchedSetAttr(number, thread, ref attributes, 0) == 0;
    }

    // struct sched_attr, first version (48 bytes); policy 0 is SCHED_OTHER.
    private const uint SchedAttributesSize = 48;

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttributes
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
    }

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long SchedSetAttr(long number, int thread, ref SchedAttributes attributes, uint flags);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "getpriority")]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);
}
