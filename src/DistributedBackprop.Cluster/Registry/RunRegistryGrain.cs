using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Cluster.Registry;

/// <summary>
/// Keeps every run's latest status in registration order. Positions are 1-based and never change, so a page
/// token (a position) stays valid while new runs arrive.
/// </summary>
/// <remarks>The index lives in memory: if its silo goes down the list starts empty again, while the runs
/// themselves (their coordinators) are unaffected.</remarks>
public sealed class RunRegistryGrain : Grain, IRunRegistryGrain
{
    private readonly List<RunStatus> _runs = [];
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The index must outlive idle periods; it is tiny.
        DelayDeactivation(TimeSpan.FromDays(365));
        return Task.CompletedTask;
    }

    public Task RecordAsync(RunStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (_positions.TryGetValue(status.RunId, out int index))
        {
            _runs[index] = status;
        }
        else
        {
            _positions[status.RunId] = _runs.Count;
            _runs.Add(status);
        }

        return Task.CompletedTask;
    }

    public Task<RunPage> ListAsync(RunState[] states, int before, int pageSize)
    {
        ArgumentNullException.ThrowIfNull(states);
        int size = Math.Max(1, pageSize);
        int index = before <= 0 || before > _runs.Count ? _runs.Count - 1 : before - 2;
        var page = new List<RunStatus>(Math.Min(size, _runs.Count));
        for (; index >= 0 && page.Count < size; index--)
        {
            if (states.Length == 0 || states.Contains(_runs[index].State))
            {
                page.Add(_runs[index]);
            }
        }

        // index + 2 is the 1-based position of the last run looked at, the exclusive bound of the next page.
        int next = index >= 0 ? index + 2 : 0;
        return Task.FromResult(new RunPage([.. page], next));
    }
}
