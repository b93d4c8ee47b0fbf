using Orleans.Runtime.Placement;

namespace DistributedBackprop.Cluster.Placement;

/// <summary>
/// Chooses the silo of a run grain from its key and the compatible silos sorted by address (IP bytes, port,
/// generation), which every silo sees in the same order:
/// worker rank r of N goes to silo ⌊r·S/N⌋ (consecutive ranks together, so their gradients meet in one
/// reducer before leaving the silo), shard j to silo j mod S, and the reducer of a silo to that silo.
/// </summary>
public sealed class RunPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(
        PlacementStrategy strategy,
        PlacementTarget target,
        IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var silos = SortSilos(context.GetCompatibleSilos(target));
        if (silos.Length == 0)
        {
            return Task.FromResult(context.LocalSilo);
        }

        var key = RunGrainKey.Parse(target.GrainIdentity.Key.ToString()!);
        var silo = key.Role switch
        {
            RunGrainRole.Worker => silos[SiloIndex(key.Index, key.Count, silos.Length)],
            RunGrainRole.Shard => silos[key.Index % silos.Length],
            _ => FindSilo(silos, key.Silo) ?? context.LocalSilo,
        };
        return Task.FromResult(silo);
    }

    /// <summary>The index, among <paramref name="silos"/> sorted silos, of worker <paramref name="rank"/>'s silo:
    /// ⌊rank·silos/workers⌋.</summary>
    public static int SiloIndex(int rank, int workers, int silos) => (int)((long)rank * silos / workers);

    /// <summary>The silos in the order placement indexes them.</summary>
    public static SiloAddress[] SortSilos(IEnumerable<SiloAddress> silos) =>
        silos.OrderBy(s => s.Endpoint.Address.GetAddressBytes(), ByteOrder.Instance)
            .ThenBy(s => s.Endpoint.Port)
            .ThenBy(s => s.Generation)
            .ToArray();

    private static SiloAddress? FindSilo(SiloAddress[] silos, string parsable) =>
        Array.Find(silos, s => s.ToParsableString() == parsable);

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
