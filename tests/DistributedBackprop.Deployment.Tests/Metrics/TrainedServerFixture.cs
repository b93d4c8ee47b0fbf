using DistributedBackprop.Cluster.Tests.Infrastructure;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Metrics;

/// <summary>
/// A live server with a real Prometheus scraping it every second, after one short training run: 2 workers,
/// 2 shards, 4 epochs of 8 steps of 32 samples on the small synthetic dataset.
/// </summary>
public sealed class TrainedServerFixture : IAsyncLifetime
{
    // SyntheticDataset.Small's training rows.
    private const int TrainRows = 256;

    private SyntheticDataset? _dataset;
    private LiveServer? _server;
    private PrometheusProcess? _prometheus;

    public string RunId { get; } = "metrics-" + Guid.NewGuid().ToString("N")[..8];

    public RunSpec Spec { get; private set; } = new();

    /// <summary>Global steps the run takes: whole batches per epoch, times epochs.</summary>
    public int Steps => Spec.Epochs * (TrainRows / Spec.BatchSize);

    public LiveServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public PrometheusProcess Prometheus =>
        _prometheus ?? throw new InvalidOperationException("Prometheus has not started.");

    public async Task InitializeAsync()
    {
        _dataset = SyntheticDataset.Small();
        _server = await LiveServer.StartAsync();
        _prometheus = await PrometheusProcess.StartAsync(_server.MetricsPort);
        Spec = Specs.Small(_dataset.Directory, workers: 2, shards: 2);
        await _server.TrainAsync(RunId, Spec);
    }

    public async Task DisposeAsync()
    {
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _dataset?.Dispose();
    }
}
