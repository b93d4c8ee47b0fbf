namespace DistributedBackprop.Core.Kernels;

/// <summary>
/// How a block of rows is cut into micro-tiles: as few tiles as MR allows, with heights that differ by at
/// most one. 16 rows become 8 + 8 rather than 14 + 2: a 2-row tile has only four accumulator chains, too few
/// to cover the FMA latency, and spends as many loads as FMAs, so it would run at a fraction of the peak.
/// </summary>
/// <remarks>
/// Packing and the driver both use this cut, so tile <c>t</c> of a block always finds its rows in packed
/// micro-panel <c>t</c>. Every C element is still computed by one multiply-add chain, so the cut is
/// invisible in the result.
/// </remarks>
internal static class GemmRowTiles
{
    /// <summary>Tiles for <paramref name="rows"/> rows, each of at most <paramref name="mr"/> rows.</summary>
    public static int Count(int rows, int mr) => (rows + mr - 1) / mr;

    /// <summary>First row of tile <paramref name="tile"/> (0..count); the first rows % count are taller.</summary>
    public static int Start(int tile, int count, int rows) => tile * (rows / count) + Math.Min(tile, rows % count);
}
