namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// A row count known when the JIT compiles a micro-kernel: each struct below is a type argument, so
/// <c>if (TRows.Count &gt; r)</c> folds to a constant and a kernel for r rows keeps only r rows of
/// accumulators in registers. Edge tiles at the bottom of C thus run as fast per row as full ones.
/// </summary>
internal interface IGemmRowCount
{
    static abstract int Count { get; }
}

internal readonly struct Rows1 : IGemmRowCount
{
    public static int Count => 1;
}

internal readonly struct Rows2 : IGemmRowCount
{
    public static int Count => 2;
}

internal readonly struct Rows3 : IGemmRowCount
{
    public static int Count => 3;
}

internal readonly struct Rows4 : IGemmRowCount
{
    public static int Count => 4;
}

internal readonly struct Rows5 : IGemmRowCount
{
    public static int Count => 5;
}

internal readonly struct Rows6 : IGemmRowCount
{
    public static int Count => 6;
}

internal readonly struct Rows7 : IGemmRowCount
{
    public static int Count => 7;
}

internal readonly struct Rows8 : IGemmRowCount
{
    public static int Count => 8;
}

internal readonly struct Rows9 : IGemmRowCount
{
    public static int Count => 9;
}

internal readonly struct Rows10 : IGemmRowCount
{
    public static int Count => 10;
}

internal readonly struct Rows11 : IGemmRowCount
{
    public static int Count => 11;
}

internal readonly struct Rows12 : IGemmRowCount
{
    public static int Count => 12;
}

internal readonly struct Rows13 : IGemmRowCount
{
    public static int Count => 13;
}

internal readonly struct Rows14 : IGemmRowCount
{
    public static int Count => 14;
}
