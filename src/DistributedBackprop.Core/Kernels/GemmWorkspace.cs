using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// Per-thread packing buffers, 64-byte aligned so packed B rows match cache lines and aligned vector loads.
/// They only grow, so a thread that has run a GEMM of a given size allocates nothing for it again.
/// </summary>
internal sealed unsafe class GemmWorkspace
{
    private const int AlignmentBytes = 64;
    private const int AlignmentFloats = AlignmentBytes / sizeof(float);

    [ThreadStatic]
    private static GemmWorkspace? _current;

    private float[] _a = [];
    private float[] _b = [];
    private float[] _tile = [];

    /// <summary>This thread's buffers.</summary>
    public static GemmWorkspace Current => _current ??= new GemmWorkspace();

    /// <summary>The buffer for an operand packed once and read by every task; used only by the pool's holder.</summary>
    public static GemmWorkspace Shared { get; } = new();

    /// <summary>Packed A block: (MC, KC) as MR-row micro-panels.</summary>
    public float* PackedA(int floats) => Aligned(ref _a, floats);

    /// <summary>Packed B block: (KC, NC) as NR-column micro-panels.</summary>
    public float* PackedB(int floats) => Aligned(ref _b, floats);

    /// <summary>Scratch tile (MR, NR) for edge tiles narrower than NR.</summary>
    public float* Tile(int floats) => Aligned(ref _tile, floats);

    private static float* Aligned(ref float[] buffer, int floats)
    {
        // The arrays live on the pinned object heap, so the pointer stays valid without a fixed block.
        if (buffer.Length < floats + AlignmentFloats)
        {
            buffer = GC.AllocateUninitializedArray<float>(floats + AlignmentFloats, pinned: true);
        }

        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        nint aligned = (address + (AlignmentBytes - 1)) & ~(nint)(AlignmentBytes - 1);
        return (float*)aligned;
    }
}
