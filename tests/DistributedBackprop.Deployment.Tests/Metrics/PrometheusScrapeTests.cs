using DistributedBackprop.Deployment.Tests.Infrastructure;

namespace DistributedBackprop.Deployment.Tests.Metrics;

/// <summary>Done-when 1 of the observability issue: real Prometheus scrapes the server during a training run,
/// and its query API sees the run's samples and steps. Expected values come from the spec, not the server.</summary>
[Collection(TrainedServerTests.Name)]
public sealed class PrometheusScrapeTests(TrainedServerFixture fixture)
{
    private static readonly TimeSpan ScrapeWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SamplesCounter_AfterRun_EqualsStepsTimesBatchSize()
    {
        string query = $"sum(dbp_samples_trained_total{{run_id=\"{fixture.RunId}\"}})";
        int expected = fixture.Steps * fixture.Spec.BatchSize;

        double samples = await fixture.Prometheus.WaitForValueAsync(query, v => v >= expected, ScrapeWait);

        Assert.Equal(expected, samples);
    }

    [Fact]
    public async Task SamplesCounter_PerRank_SplitsTheBatchEvenly()
    {
        int perRank = fixture.Steps * fixture.Spec.BatchSize / fixture.Spec.Workers;

        for (int rank = 0; rank < fixture.Spec.Workers; rank++)
        {
            string query = $"dbp_samples_trained_total{{run_id=\"{fixture.RunId}\",rank=\"{rank}\"}}";
            double samples = await fixture.Prometheus.WaitForValueAsync(query, v => v >= perRank, ScrapeWait);
            Assert.Equal(perRank, samples);
        }
    }

    [Fact]
    public async Task StepDurationHistogram_AfterRun_HasOneObservationPerStep()
    {
        string count = $"dbp_step_duration_seconds_count{{run_id=\"{fixture.RunId}\"}}";
        string inf = $"dbp_step_duration_seconds_bucket{{run_id=\"{fixture.RunId}\",le=\"+Inf\"}}";
        string sum = $"dbp_step_duration_seconds_sum{{run_id=\"{fixture.RunId}\"}}";

        double observations = await fixture.Prometheus.WaitForValueAsync(
            count, v => v >= fixture.Steps, ScrapeWait);
        double infBucket = await fixture.Prometheus.WaitForValueAsync(
            inf, v => v >= fixture.Steps, ScrapeWait);
        double seconds = await fixture.Prometheus.WaitForValueAsync(sum, v => v > 0, ScrapeWait);

        Assert.Equal(fixture.Steps, observations);
        Assert.Equal(fixture.Steps, infBucket);
        Assert.True(seconds > 0, $"the step durations add up to {seconds} s");
    }

    [Fact]
    public async Task StepPhaseHistogram_EveryPhase_HasOneObservationPerStep()
    {
        foreach (string phase in new[] { "compute", "reduce", "optimizer", "waiting" })
        {
            string query = $"dbp_step_phase_duration_seconds_count{{run_id=\"{fixture.RunId}\",phase=\"{phase}\"}}";

            double observations = await fixture.Prometheus.WaitForValueAsync(
                query, v => v >= fixture.Steps, ScrapeWait);

            Assert.Equal(fixture.Steps, observations);
        }
    }
}
