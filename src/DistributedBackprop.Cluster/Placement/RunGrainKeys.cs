using System.Globalization;

namespace DistributedBackprop.Cluster.Placement;

/// <summary>The kinds of grain a run places with <see cref="RunPlacementDirector"/>.</summary>
public enum RunGrainRole
{
    Worker,
    Shard,
    Reducer,
}

/// <summary>
/// A parsed run grain key. Keys carry what placement needs, so the director decides from the key alone:
/// <c>{run}/worker/{rank}/{workers}</c>, <c>{run}/shard/{index}/{shards}</c>, <c>{run}/reducer/{silo}</c>.
/// </summary>
public sealed record RunGrainKey(string RunId, RunGrainRole Role, int Index, int Count, string Silo)
{
    /// <summary>Run ids are 1-64 characters of letters, digits, '.', '_' or '-', so they never contain '/'.</summary>
    public static bool IsValidRunId(string? runId) =>
        !string.IsNullOrEmpty(runId) && runId.Length <= 64
        && runId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    public static string Worker(string runId, int rank, int workers) =>
        string.Create(CultureInfo.InvariantCulture, $"{runId}/worker/{rank}/{workers}");

    public static string Shard(string runId, int index, int shards) =>
        string.Create(CultureInfo.InvariantCulture, $"{runId}/shard/{index}/{shards}");

    /// <param name="silo">The silo's <c>SiloAddress.ToParsableString()</c>.</param>
    public static string Reducer(string runId, string silo) => $"{runId}/reducer/{silo}";

    /// <summary>Parses a key made by <see cref="Worker"/>, <see cref="Shard"/> or <see cref="Reducer"/>.</summary>
    /// <exception cref="FormatException">The key has none of those forms.</exception>
    public static RunGrainKey Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string[] parts = key.Split('/', 4);
        if (parts.Length >= 3 && parts[1] == "reducer")
        {
            return new RunGrainKey(parts[0], RunGrainRole.Reducer, 0, 0, key[(parts[0].Length + 9)..]);
        }

        if (parts.Length == 4 && (parts[1] == "worker" || parts[1] == "shard")
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && index < count)
        {
            var role = parts[1] == "worker" ? RunGrainRole.Worker : RunGrainRole.Shard;
            return new RunGrainKey(parts[0], role, index, count, "");
        }

        throw new FormatException(
            $"'{key}' is not a run grain key: expected run/worker/rank/workers, run/shard/index/shards or "
            + "run/reducer/silo.");
    }
}
