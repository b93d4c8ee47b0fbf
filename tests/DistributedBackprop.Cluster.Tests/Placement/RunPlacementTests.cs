using System.Net;
using DistributedBackprop.Cluster.Placement;
using Orleans.Runtime.Placement;

namespace DistributedBackprop.Cluster.Tests.Placement;

public sealed class RunPlacementTests
{
    private static readonly SiloAddress[] Silos =
    [
        SiloAddress.New(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 11111), 5),
        SiloAddress.New(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 11112), 5),
        SiloAddress.New(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 11111), 5),
    ];

    [Fact]
    public void RunGrainKey_WorkerKey_RoundTrips()
    {
        var key = RunGrainKey.Parse(RunGrainKey.Worker("run-1", 2, 5));

        Assert.Equal(new RunGrainKey("run-1", RunGrainRole.Worker, 2, 5, ""), key);
    }

    [Fact]
    public void RunGrainKey_ReducerKey_KeepsSiloAddress()
    {
        string silo = Silos[0].ToParsableString();

        var key = RunGrainKey.Parse(RunGrainKey.Reducer("run-1", silo));

        Assert.Equal(RunGrainRole.Reducer, key.Role);
        Assert.Equal(silo, key.Silo);
    }

    [Theory]
    [InlineData("run-1")]
    [InlineData("run-1/worker/3/3")]
    [InlineData("run-1/shard/x/3")]
    public void RunGrainKey_MalformedKey_Throws(string key)
    {
        Assert.Throws<FormatException>(() => RunGrainKey.Parse(key));
    }

    [Fact]
    public void SortSilos_AnyOrder_SortsByAddressThenPort()
    {
        var sorted = RunPlacementDirector.SortSilos(Silos.Reverse());

        Assert.Equal([Silos[2], Silos[1], Silos[0]], sorted);
    }

    [Fact]
    public async Task OnAddActivation_FourWorkersOnThreeSilos_KeepsConsecutiveRanksTogether()
    {
        var sorted = RunPlacementDirector.SortSilos(Silos);

        var placed = new List<SiloAddress>();
        for (int rank = 0; rank < 4; rank++)
        {
            placed.Add(await PlaceAsync(RunGrainKey.Worker("r", rank, 4)));
        }

        Assert.Equal([sorted[0], sorted[0], sorted[1], sorted[2]], placed);
    }

    [Fact]
    public async Task OnAddActivation_Shards_GoRoundRobin()
    {
        var sorted = RunPlacementDirector.SortSilos(Silos);

        var placed = new List<SiloAddress>();
        for (int shard = 0; shard < 4; shard++)
        {
            placed.Add(await PlaceAsync(RunGrainKey.Shard("r", shard, 4)));
        }

        Assert.Equal([sorted[0], sorted[1], sorted[2], sorted[0]], placed);
    }

    [Fact]
    public async Task OnAddActivation_Reducer_GoesToItsSilo()
    {
        var placed = await PlaceAsync(RunGrainKey.Reducer("r", Silos[1].ToParsableString()));

        Assert.Equal(Silos[1], placed);
    }

    private static Task<SiloAddress> PlaceAsync(string key)
    {
        var target = new PlacementTarget(
            GrainId.Create("test", key), [], GrainInterfaceType.Create("test"), 0);
        return new RunPlacementDirector().OnAddActivation(RunPlacementStrategy.Instance, target, new Context());
    }

    private sealed class Context : IPlacementContext
    {
        public SiloAddress LocalSilo => Silos[0];

        public SiloStatus LocalSiloStatus => SiloStatus.Active;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => Silos;

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = Silos };
    }
}
