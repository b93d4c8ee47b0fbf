using DistributedBackprop.Core.Kernels;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// The scheduler's shortest time slice, for threads that wake for a short piece of latency-bound work (a
/// transfer, a message) while the silo's compute threads keep the cores busy with long slices: with it, a woken
/// thread preempts a compute thread at once instead of waiting for the compute thread's slice (up to a few
/// milliseconds) to end. See <see cref="KernelThreads.SetCurrentThreadSlice"/>.
/// </summary>
internal static class ShortSlice
{
    /// <summary>The slice asked for: the scheduler's smallest.</summary>
    public const long Nanoseconds = 100_000;

    /// <summary>Applies the short slice to the calling thread; returns whether the kernel took it.</summary>
    public static bool ApplyToCurrentThread() => KernelThreads.SetCurrentThreadSlice(Nanoseconds);
}
