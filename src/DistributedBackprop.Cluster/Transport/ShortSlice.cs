using System.Runtime.InteropServices;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// Asks Linux's EEVDF scheduler (kernel 6.12 and later) for a short time slice for the calling thread: a thread
/// with a shorter slice than the running one preempts it when it wakes, instead of waiting for the running
/// thread's slice (up to a few milliseconds) to end. The tensor channel's threads ask for it: they wake for a
/// transfer, copy it between socket and memory in well under a slice, and sleep again, while the silo's compute
/// threads keep the cores busy with long slices. Needs no privilege; on other systems, older kernels or a refusal
/// nothing changes but speed.
/// </summary>
internal static partial class ShortSlice
{
    private const uint SchedOther = 0;
    private const uint AttrSize = 48;
    private const int PriorityOfProcess = 0;

    /// <summary>The slice asked for: the scheduler's smallest.</summary>
    public const ulong Nanoseconds = 100_000;

    /// <summary>Applies the short slice to the calling thread, keeping its nice value; returns whether the
    /// kernel took it.</summary>
    public static bool ApplyToCurrentThread()
    {
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
            Size = AttrSize,
            Policy = SchedOther,
            Nice = GetPriority(PriorityOfProcess, thread),
            Runtime = Nanoseconds,
        };
        return SchedSetAttr(number, thread, ref attributes, 0) == 0;
    }

    // struct sched_attr, first version (48 bytes).
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
}
