using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DistributedBackprop.Cluster.Telemetry;

/// <summary>
/// Owns the <c>DistributedBackprop</c> meter with every training instrument, and the activity source of the
/// training spans. One instance per silo (a DI singleton); thread-safe, so any grain may record through it.
/// Each silo exports what its own grains record: worker instruments come from the silos hosting the workers,
/// step instruments from the coordinator's silo; Prometheus queries add them up across instances.
/// </summary>
/// <remarks>
/// The meter comes from the container's <see cref="IMeterFactory"/>, which disposes it with the container.
/// Instrument names are dotted and lowercase with UCUM units; the Prometheus exporter turns
/// <c>dbp.step.duration</c> (unit <c>s</c>) into <c>dbp_step_duration_seconds</c> and drops the units
/// <c>1</c> and <c>{…}</c>. Every instrument carries the run id (<see cref="RunIdTag"/>), so finished runs'
/// series stay in memory until the process restarts, up to the SDK's limit of 2000 series per instrument.
/// </remarks>
public sealed class TrainingTelemetry
{
    /// <summary>The meter's name; add it to a meter provider to export these instruments.</summary>
    public const string MeterName = "DistributedBackprop";

    /// <summary>The activity source's name; add it to a tracer provider to export the step spans.</summary>
    public const string ActivitySourceName = "DistributedBackprop";

    /// <summary>Tag (Prometheus label) naming the run.</summary>
    public const string RunIdTag = "run_id";

    /// <summary>Tag naming a worker's rank within its run.</summary>
    public const string RankTag = "rank";

    /// <summary>Tag naming a step phase: compute, reduce, optimizer or waiting.</summary>
    public const string PhaseTag = "phase";

    /// <summary>Tag on spans: the 0-based global step.</summary>
    public const string GlobalStepTag = "dbp.global_step";

    /// <summary>The span around one global step, on the coordinator.</summary>
    public const string StepSpan = "dbp.step";

    /// <summary>A worker's part of a step: parameter pull, forward, backward and hand-off.</summary>
    public const string WorkerComputeSpan = "dbp.worker.compute";

    /// <summary>A silo's reducer joining its workers' nodes and pushing slices to the shards.</summary>
    public const string SiloReduceSpan = "dbp.reduce.silo";

    /// <summary>The shards joining the root and returning their sums of squares.</summary>
    public const string ReduceSpan = "dbp.reduce";

    /// <summary>The shards clipping and applying the optimizer.</summary>
    public const string OptimizerSpan = "dbp.optimizer";

    /// <summary>Starts the training spans; a span is null when nobody listens.</summary>
    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    // Steps range from about a millisecond (tiny models, one silo) to tens of seconds (a ResNet on two cores).
    private static readonly double[] DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly Counter<long> _samples;
    private readonly Histogram<double> _stepDuration;
    private readonly Histogram<double> _phaseDuration;
    private readonly Histogram<double> _workerStepDuration;
    private readonly Counter<long> _gradientBytes;
    private readonly Gauge<double> _loss;
    private readonly Gauge<double> _testLoss;
    private readonly Gauge<double> _testAccuracy;
    private readonly Gauge<double> _gradientNorm;
    private readonly UpDownCounter<long> _activeRuns;
    private readonly UpDownCounter<long> _activeWorkers;

    public TrainingTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        var durations = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };

        _samples = meter.CreateCounter<long>(
            "dbp.samples.trained", "{sample}", "Training samples whose gradients a worker computed.");
        _stepDuration = meter.CreateHistogram(
            "dbp.step.duration", "s", "Wall time of a global step, from the step order to the applied update.",
            advice: durations);
        _phaseDuration = meter.CreateHistogram(
            "dbp.step.phase.duration", "s",
            "A global step's wall time split by phase: compute (slowest rank), reduce, optimizer and waiting.",
            advice: durations);
        _workerStepDuration = meter.CreateHistogram(
            "dbp.worker.step.duration", "s",
            "A worker's time in one step (pull, compute, hand-off); a rank far above the others is a straggler.",
            advice: durations);
        _gradientBytes = meter.CreateCounter<long>(
            "dbp.gradient.sent", "By", "Gradient bytes the silos' reducers sent to the parameter shards.");
        _loss = meter.CreateGauge<double>("dbp.run.loss", description: "Training loss of the run's latest step.");
        _testLoss = meter.CreateGauge<double>(
            "dbp.run.test.loss", description: "Mean test loss at the run's latest evaluation.");
        _testAccuracy = meter.CreateGauge<double>(
            "dbp.run.test.accuracy", "1", "Test accuracy (0 to 1) at the run's latest evaluation.");
        _gradientNorm = meter.CreateGauge<double>(
            "dbp.gradient.norm", description: "Global L2 norm of the run's latest gradient, before clipping.");
        _activeRuns = meter.CreateUpDownCounter<long>(
            "dbp.runs.active", "{run}", "Runs whose coordinator on this silo is placing or training.");
        _activeWorkers = meter.CreateUpDownCounter<long>(
            "dbp.workers.active", "{worker}", "Workers taking part in the run.");
    }

    /// <summary>A run has placed its workers and starts training.</summary>
    public void RunStarted(string runId, int workers)
    {
        _activeRuns.Add(1);
        _activeWorkers.Add(workers, Run(runId));
    }

    /// <summary>A run that <see cref="RunStarted"/> reported has completed, failed or been cancelled.</summary>
    public void RunEnded(string runId, int workers)
    {
        _activeRuns.Add(-1);
        _activeWorkers.Add(-workers, Run(runId));
    }

    /// <summary>The coordinator finished a global step.</summary>
    public void StepCompleted(string runId, StepPhases phases, double loss, double gradientNorm)
    {
        var run = Run(runId);
        _stepDuration.Record(phases.Total, run);
        RecordPhase(runId, "compute", phases.Compute);
        RecordPhase(runId, "reduce", phases.Reduce);
        RecordPhase(runId, "optimizer", phases.Optimizer);
        RecordPhase(runId, "waiting", phases.Waiting);
        _loss.Record(loss, run);
        _gradientNorm.Record(gradientNorm, run);
    }

    /// <summary>The coordinator evaluated the run on the test split.</summary>
    public void TestEvaluated(string runId, double loss, double accuracy)
    {
        _testLoss.Record(loss, Run(runId));
        _testAccuracy.Record(accuracy, Run(runId));
    }

    /// <summary>A worker finished its part of a step over <paramref name="samples"/> training rows.</summary>
    public void WorkerStepCompleted(string runId, int rank, int samples, double seconds)
    {
        var tags = new TagList { { RunIdTag, runId }, { RankTag, rank } };
        _samples.Add(samples, tags);
        _workerStepDuration.Record(seconds, tags);
    }

    /// <summary>A silo's reducer sent <paramref name="bytes"/> of gradient slices to the shards.</summary>
    public void GradientSent(string runId, long bytes) => _gradientBytes.Add(bytes, Run(runId));

    /// <summary>Starts the span of one global step as the root of its own trace (a run lasts too long to be one
    /// trace), linked to the span of the call that started the run; null when nobody listens. The caller must
    /// have no current activity, or the step would become its child.</summary>
    public static Activity? StartStepSpan(string runId, long globalStep, int epoch, ActivityContext startedBy)
    {
        ActivityLink[]? links = startedBy == default ? null : [new ActivityLink(startedBy)];
        var activity = ActivitySource.StartActivity(StepSpan, ActivityKind.Internal, default(ActivityContext),
            links: links);
        activity?.SetTag(RunIdTag, runId);
        activity?.SetTag(GlobalStepTag, globalStep);
        activity?.SetTag("dbp.epoch", epoch + 1);
        return activity;
    }

    /// <summary>Starts a span tagged with the run id, as a child of the current activity; null when nobody
    /// listens.</summary>
    public static Activity? StartSpan(string name, string runId, long globalStep)
    {
        var activity = ActivitySource.StartActivity(name);
        activity?.SetTag(RunIdTag, runId);
        activity?.SetTag(GlobalStepTag, globalStep);
        return activity;
    }

    private void RecordPhase(string runId, string phase, double seconds) =>
        _phaseDuration.Record(seconds, new TagList { { RunIdTag, runId }, { PhaseTag, phase } });

    private static KeyValuePair<string, object?> Run(string runId) => new(RunIdTag, runId);
}
