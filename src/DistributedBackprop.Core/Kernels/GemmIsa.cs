using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistributedBackprop.Core.Kernels;

/// <summary>The instruction set a GEMM micro-kernel is written for.</summary>
internal enum GemmIsa
{
    Scalar,
    Vector256,
    Vector512,
}

internal static class GemmIsaDetection
{
    /// <summary>The widest instruction set this machine runs at full speed.</summary>
    public static readonly GemmIsa Best = Detect();

    public static bool IsSupported(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        GemmIsa.Vector256 => Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx2.IsSupported,
        _ => true,
    };

    private static GemmIsa Detect()
    {
        if (IsSupported(GemmIsa.Vector512))
        {
            return GemmIsa.Vector512;
        }

        return IsSupported(GemmIsa.Vector256) ? GemmIsa.Vector256 : GemmIsa.Scalar;
    }
}
