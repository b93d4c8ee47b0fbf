using System.Diagnostics;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Cluster.Placement;
using DistributedBackprop.Cluster.Reduction;
using DistributedBackprop.Cluster.Registry;
using DistributedBackprop.Cluster.Runs;
using DistributedBackprop.Cluster.Serialization;
using DistributedBackprop.Cluster.Shards;
using DistributedBackprop.Cluster.Telemetry;
using DistributedBackprop.Cluster.Workers;
using DistributedBackprop.Contracts.V1;
using DistributedBackprop.Core.Models;
using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Training;
using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace DistributedBackprop.Cluster.Coordinator;

/// <summary>
/// Drives one run (key: the run id). The step protocol, in full:
/// <list type="number">
/// <item>Start: validate the spec; join workers 0..N-1 (each loads the dataset from its own silo and reports
/// it); build the model with the run seed for the initial flat parameter vector; cut the vector into S shard
/// slices on 4096-float boundaries (the gradient-norm chunks, so no shard cuts a chunk) and send each shard its
/// slice (it answers with its silo and that silo's tensor channel endpoint); tell each silo's reducer which
/// local ranks to expect and where every shard is.</item>
/// <item>Step s (parameter version v = s): call every worker's ComputeStep in parallel. Worker r owns
/// micro-batches [r·M/N, (r+1)·M/N); it gets version v from its silo's reducer (which already holds it when the
/// shards handed it over, else fetches it once per silo), computes its micro-batch gradients and folds them into
/// the maximal nodes of the canonical tree inside its range (MicroBatchTree.Decompose).</item>
/// <item>Each worker hands its nodes to its silo's reducer, by reference. When all local workers have, the
/// reducer joins sibling nodes (MicroBatchTree.Combine) and sends each shard its slice of every remaining
/// node: one transfer per shard leaves the silo, as float32 bytes. A shard on another silo gets it over the
/// tensor channel (plain TCP, see TensorChannel), which leaves it in the shard's mailbox and acknowledges; a
/// shard on the same silo, or any shard when a channel is off, through Orleans. Parameter fetches take the same
/// paths.</item>
/// <item>The push that completes a shard's nodes (covering [0, M)) makes it join them into the root (the same
/// joins one process makes) and compute the root's sums of squares per 4096-float chunk. Without norm clipping
/// nothing global is needed before the update, so the shard also applies its optimizer at once (version v + 1)
/// if every loss and its slice are finite, and hands the new slice back by reference to a reducer on its own
/// silo, which keeps it for the next step: no further round trip. The reductions travel back with the workers'
/// replies; the coordinator asks a shard whose completing push came over the tensor channel (an
/// acknowledgement only) for its reduction, and the shard takes its mailbox, reduces and (as above) applies in
/// that call. Summing the chunk sums in index order gives the global norm, whatever S is: reported with the
/// step, checked for being finite, and, for shards that have not applied yet (norm clipping), sent to them to
/// clip and apply. Reducers fetch the slices they
/// were not handed when their workers ask for v + 1.</item>
/// <item>The coordinator combines losses and correct counts in rank order, writes the events (it is the log's
/// only writer), evaluates on the test split at epoch ends (rows split across workers, sums combined in rank
/// order) and decides completion, failure or cancellation.</item>
/// </list>
/// Every array a step sends is used up before the next step starts, which is what lets in-silo messages pass
/// arrays by reference.
/// </summary>
[PreferLocalPlacement]
public sealed partial class CoordinatorGrain(
    ILogger<CoordinatorGrain> logger,
    ILocalSiloDetails silo,
    TrainingTelemetry telemetry)
    : Grain, ICoordinatorGrain
{
    private RunEventLog _log = new("");
    private RunSpec? _spec;
    private RunState _state = RunState.Unspecified;
    private string _reason = "";
    private long _globalStep;
    private string? _cancelReason;
    private LearningRateSchedule? _schedule;
    private TrainingOptions? _options;
    private int _stepsPerEpoch;
    private DateTime? _createdAt;
    private DateTime? _startedAt;
    private DateTime? _finishedAt;
    private int _epochsDone;
    private double _lastTestAccuracy = double.NaN;

    // The span of the call that started the run, which every step span links to.
    private ActivityContext _startedBy;
    private bool _reportedActive;

    private IWorkerGrain[] _workers = [];
    private WorkerInfo[] _workerInfos = [];
    private IShardGrain[] _shards = [];
    private ShardRange[] _ranges = [];
    private IReducerGrain[] _reducers = [];
    private readonly List<EpochTimings> _timings = [];

    private string RunId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _log = new RunEventLog(RunId);
        return Task.CompletedTask;
    }

    public async Task<RunStatus> StartAsync(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (_spec is not null)
        {
            return _spec.Equals(spec)
                ? Status()
                : throw new InvalidOperationException($"Run {RunId} was already started with a different spec.");
        }

        var errors = RunSpecValidator.Validate(RunId, spec);
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid run spec for run {RunId}: {string.Join(" ", errors)}");
        }

        _spec = spec.Clone();
        _state = RunState.Pending;
        _createdAt = DateTime.UtcNow;
        await RecordAsync();
        _startedBy = Activity.Current?.Context ?? default;

        // The run outlives the Start call; its turns interleave with status and event queries.
        DelayDeactivation(TimeSpan.FromDays(7));
        _ = RunAsync(_spec);
        return Status();
    }

    public Task<RunStatus> GetStatusAsync() => Task.FromResult(Status());

    public Task<List<RunEvent>> GetEventsAsync(ulong afterSequence, int max) =>
        Task.FromResult(_log.After(afterSequence, max));

    public Task<List<RunEvent>> WaitForEventsAsync(ulong afterSequence, int max, TimeSpan timeout) =>
        _log.WaitAfterAsync(afterSequence, max, timeout);

    public Task CancelAsync(string reason)
    {
        if (_state is RunState.Pending or RunState.Running)
        {
            _cancelReason = string.IsNullOrWhiteSpace(reason) ? "cancelled by request" : reason;
        }

        return Task.CompletedTask;
    }

    public Task<List<EpochTimings>> GetEpochTimingsAsync() => Task.FromResult(_timings.ToList());

    public async Task<byte[]> GetParametersAsync()
    {
        if (_shards.Length == 0)
        {
            throw new InvalidOperationException($"Run {RunId} has no parameters yet.");
        }

        var slices = await Task.WhenAll(_shards.Select(shard => shard.GetParametersAsync(_globalStep)));
        var parameters = new byte[slices.Sum(s => s.Value.Length)];
        int offset = 0;
        foreach (var slice in slices)
        {
            slice.Value.CopyTo(parameters, offset);
            offset += slice.Value.Length;
        }

        return parameters;
    }

    private async Task RunAsync(RunSpec spec)
    {
        // The run outlives the Start call: detach from its span so each step starts a trace of its own. The change
        // stays inside this method's execution context.
        Activity.Current = null;
        try
        {
            await PlaceAsync(spec);
            _state = RunState.Running;
            _startedAt = DateTime.UtcNow;
            await RecordAsync();
            telemetry.RunStarted(RunId, _workers.Length);
            _reportedActive = true;
            await TrainAsync(spec);
            _state = RunState.Completed;
        }
        catch (RunCancelledException)
        {
            _state = RunState.Cancelled;
            _reason = _cancelReason ?? "cancelled";
            _log.Append(new RunEvent { RunCancelled = new RunCancelled { Reason = _reason } });
            LogRunCancelled(RunId, _reason);
        }
        catch (Exception exception)
        {
            _state = RunState.Failed;
            _reason = exception is RunFailureException ? exception.Message : Describe(exception);
            _log.Append(new RunEvent { RunFailed = new RunFailed { Reason = _reason } });
            LogRunFailed(RunId, _reason);
        }

        _finishedAt = DateTime.UtcNow;
        await RecordAsync();
        if (_reportedActive)
        {
            telemetry.RunEnded(RunId, _workers.Length);
        }

        await ReleaseAsync();
    }

    // Step 1 of the protocol.
    private async Task PlaceAsync(RunSpec spec)
    {
        int n = spec.Workers;
        _workers = Enumerable.Range(0, n)
            .Select(r => GrainFactory.GetGrain<IWorkerGrain>(RunGrainKey.Worker(RunId, r, n)))
            .ToArray();
        _workerInfos = await CallWorkersAsync("joining", (w, r) => w.JoinAsync(new WorkerSetup(RunId, spec, r, n)));
        foreach (var info in _workerInfos)
        {
            CheckSameData(_workerInfos[0], info);
            _log.Append(new RunEvent { WorkerJoined = new WorkerJoined { Rank = info.Rank, Silo = info.Silo } });
        }

        // The workers built the model the trainer's way (and checked it fits the data); the initial vector is
        // built here, from the same spec, shape and seed, so the data never has to reach this silo.
        var first = _workerInfos[0];
        var model = ModelFactory.Create(RunSpecMapping.ToModelSpec(spec), first.SampleShape);
        model.Initialize(spec.Seed);
        var layout = model.Layout;
        _ranges = RunPlan.ShardRanges(layout.Count, spec.ParameterShards);
        _stepsPerEpoch = first.TrainRows / spec.BatchSize;
        _options = RunSpecMapping.ToTrainingOptions(spec, threads: 1);
        _schedule = new LearningRateSchedule(_options.ScheduleFor(_stepsPerEpoch));

        var segments = layout.Segments
            .Select(s => new SegmentInfo(s.Name, s.Offset, s.Shape, (int)s.Kind, s.Momentum))
            .ToArray();
        int shards = _ranges.Length;
        _shards = Enumerable.Range(0, shards)
            .Select(j => GrainFactory.GetGrain<IShardGrain>(RunGrainKey.Shard(RunId, j, shards)))
            .ToArray();
        var locations = await Task.WhenAll(_shards.Select((shard, j) => shard.SetupAsync(new ShardSetup(
            RunId, spec, j, _ranges[j], segments, _stepsPerEpoch,
            FloatBytes.From(model.Parameters.AsSpan(_ranges[j].Start, _ranges[j].Length))))));
        var shardSilos = locations.Select(l => l.Silo).ToArray();
        var shardEndpoints = locations.Select(l => l.TensorEndpoint).ToArray();

        var silos = _workerInfos.GroupBy(i => i.Silo).ToArray();
        _reducers = silos.Select(g => GrainFactory.GetGrain<IReducerGrain>(RunGrainKey.Reducer(RunId, g.Key)))
            .ToArray();
        await Task.WhenAll(silos.Select((g, k) => _reducers[k].SetupAsync(new ReducerSetup(
            RunId, g.Select(i => i.Rank).ToArray(), _ranges, spec.MicroBatches, layout.Count, shardSilos,
            shardEndpoints))));

        _log.Append(new RunEvent
        {
            RunStarted = new RunStarted
            {
                Spec = spec,
                ParameterCount = layout.Count,
                StepsPerEpoch = _stepsPerEpoch,
                Silos = silos.Length,
                ShardSilos = { shardSilos },
            },
        });
        LogRunStarted(RunId, n, shards, silos.Length, layout.Count);
    }

    // Steps 2-5 of the protocol, for every step of every epoch; reports mirror the single-process trainer's.
    private async Task TrainAsync(RunSpec spec)
    {
        long runStarted = Stopwatch.GetTimestamp();
        double trainingSeconds = 0;
        var test = (Loss: double.NaN, Accuracy: double.NaN);
        for (int epoch = 0; epoch < spec.Epochs; epoch++)
        {
            long epochStarted = Stopwatch.GetTimestamp();
            _timings.Add(EpochTimings.Start(epoch + 1, _workers.Length, _reducers.Length));
            double epochLoss = 0;
            for (int step = 0; step < _stepsPerEpoch; step++)
            {
                ThrowIfCancelled();
                var progress = await StepAsync(spec, epoch, step);
                epochLoss += progress.Loss;
                if (spec.StepEventInterval > 0 && progress.GlobalStep % spec.StepEventInterval == 0)
                {
                    _log.Append(new RunEvent { StepProgress = progress });
                }
            }

            double epochSeconds = Stopwatch.GetElapsedTime(epochStarted).TotalSeconds;
            trainingSeconds += epochSeconds;
            int every = Math.Max(1, spec.EvaluateEveryEpochs);
            bool evaluate = epoch == spec.Epochs - 1 || (epoch + 1) % every == 0;
            var evaluated = evaluate ? await EvaluateAsync() : (Loss: double.NaN, Accuracy: double.NaN);
            if (evaluate)
            {
                test = evaluated;
                _lastTestAccuracy = evaluated.Accuracy;
                telemetry.TestEvaluated(RunId, evaluated.Loss, evaluated.Accuracy);
            }

            _epochsDone = epoch + 1;

            _log.Append(new RunEvent
            {
                EpochCompleted = new EpochCompleted
                {
                    Epoch = epoch + 1,
                    Epochs = spec.Epochs,
                    TrainLoss = epochLoss / _stepsPerEpoch,
                    TestLoss = evaluated.Loss,
                    TestAccuracy = evaluated.Accuracy,
                    SamplesPerSecond = (double)_stepsPerEpoch * spec.BatchSize / epochSeconds,
                    ElapsedSeconds = Stopwatch.GetElapsedTime(runStarted).TotalSeconds,
                    TrainingSeconds = trainingSeconds,
                    Workers = _workers.Length,
                },
            });
        }

        _log.Append(new RunEvent
        {
            RunCompleted = new RunCompleted
            {
                Steps = _globalStep,
                TestAccuracy = test.Accuracy,
                ElapsedSeconds = Stopwatch.GetElapsedTime(runStarted).TotalSeconds,
            },
        });
        LogRunCompleted(RunId, _globalStep, test.Accuracy);
    }

    private async Task<StepProgress> StepAsync(RunSpec spec, int epoch, int step)
    {
        using var span = TrainingTelemetry.StartStepSpan(RunId, _globalStep, epoch, _startedBy);
        long started = Stopwatch.GetTimestamp();
        var order = new StepOrder(_globalStep, epoch, step, _globalStep);
        var results = await CallWorkersAsync(
            $"epoch {epoch + 1} step {step + 1}", (w, _) => w.ComputeStepAsync(order));
        long computed = Stopwatch.GetTimestamp();

        // Micro-batch losses added in micro-batch order, as the trainer does: ranks own consecutive ranges.
        double loss = 0;
        foreach (var result in results)
        {
            foreach (double microBatchLoss in result.Losses)
            {
                loss += microBatchLoss;
            }
        }

        // Shard j's reduction comes back with the worker whose silo completed it; a shard whose last nodes came
        // over the tensor channel (which only acknowledges) is asked for it, and applies in that call when it can.
        var reductions = new ShardReduction[_shards.Length];
        foreach (var result in results)
        {
            for (int j = 0; j < result.Reductions.Length; j++)
            {
                reductions[j] ??= result.Reductions[j]!;
            }
        }

        var missing = Enumerable.Range(0, reductions.Length).Where(j => reductions[j] is null).ToArray();
        if (missing.Length > 0)
        {
            using (TrainingTelemetry.StartSpan(TrainingTelemetry.ReduceSpan, RunId, _globalStep))
            {
                var asked = await Task.WhenAll(missing.Select(j => _shards[j].ReduceAsync(_globalStep)));
                for (int k = 0; k < missing.Length; k++)
                {
                    reductions[missing[k]] = asked[k];
                }
            }
        }

        long reduced = Stopwatch.GetTimestamp();
        double sumOfSquares = 0;
        foreach (var reduction in reductions)
        {
            sumOfSquares = GradientNorm.Combine(reduction.ChunkSumsOfSquares, sumOfSquares);
        }

        double norm = Math.Sqrt(sumOfSquares);
        if (!double.IsFinite(loss) || !double.IsFinite(norm))
        {
            throw new RunFailureException(
                $"Step {_globalStep + 1} (epoch {epoch + 1}, step {step + 1}): the loss ({loss}) or the gradient "
                + $"(norm {norm}) is not finite. Lower the learning rate or set a clip norm.");
        }

        // Shards without norm clipping applied the update on their own; the others need the norm first.
        var pending = Enumerable.Range(0, reductions.Length).Where(j => !reductions[j].Applied).ToArray();
        double appliedByShards = reductions.Max(r => r.ApplySeconds);
        double applySeconds = appliedByShards;
        if (pending.Length > 0)
        {
            using (TrainingTelemetry.StartSpan(TrainingTelemetry.OptimizerSpan, RunId, _globalStep))
            {
                var seconds = await Task.WhenAll(pending.Select(j => _shards[j].ApplyAsync(_globalStep, norm)));
                applySeconds = Math.Max(applySeconds, seconds.Max());
            }
        }

        long applied = Stopwatch.GetTimestamp();
        telemetry.StepCompleted(
            RunId, Phases(results, started, computed, reduced, applied, appliedByShards), loss, norm);
        _timings[^1] = _timings[^1].AddStep(
            Stopwatch.GetElapsedTime(started, applied).TotalSeconds,
            Stopwatch.GetElapsedTime(started, computed).TotalSeconds,
            results,
            reductions.Max(r => r.Seconds) + applySeconds,
            Stopwatch.GetElapsedTime(computed, applied).TotalSeconds);
        var progress = new StepProgress
        {
            Epoch = epoch + 1,
            Step = step + 1,
            StepsPerEpoch = _stepsPerEpoch,
            GlobalStep = _globalStep + 1,
            Loss = loss,
            GradientNorm = norm,
            LearningRate = _schedule!.LearningRateAt(_globalStep),
        };
        _globalStep++;
        return progress;
    }

    // The step's critical path: the slowest rank's compute and hand-off, then the shards' work; see StepPhases.
    // An update a shard applied on its own happened inside the hand-off, so it moves from there to the optimizer.
    private static StepPhases Phases(
        WorkerStepResult[] results,
        long started,
        long computed,
        long reduced,
        long applied,
        double appliedByShards)
    {
        double compute = results.Max(r => r.Timings.ComputeSeconds);
        double handOff = results.Max(r => r.Timings.ReduceSeconds);
        return new StepPhases(
            Stopwatch.GetElapsedTime(started, applied).TotalSeconds,
            compute,
            Math.Max(0, handOff - appliedByShards) + Stopwatch.GetElapsedTime(computed, reduced).TotalSeconds,
            appliedByShards + Stopwatch.GetElapsedTime(reduced, applied).TotalSeconds);
    }

    // Each worker evaluates whole evaluator batches; adding the batches in row order reproduces the
    // single-process evaluator's sums exactly.
    private async Task<(double Loss, double Accuracy)> EvaluateAsync()
    {
        int n = _workers.Length;
        int rows = _workerInfos[0].TestRows;
        int batchSize = _options!.EvaluationBatchSize;
        var results = await CallWorkersAsync("evaluation", (w, r) =>
        {
            var (start, end) = RunPlan.RowRange(r, n, rows, batchSize);
            return w.EvaluateAsync(_globalStep, start, end);
        });

        var sums = default(EvaluationSums);
        foreach (var batch in results.SelectMany(result => result.Batches))
        {
            sums = sums.Add(new EvaluationSums(batch.LossSum, batch.Correct, batch.Rows));
        }

        return (sums.MeanLoss, sums.Accuracy);
    }

    // Calls every worker in parallel; a failure names the rank, its silo and what it was doing.
    private async Task<T[]> CallWorkersAsync<T>(string activity, Func<IWorkerGrain, int, Task<T>> call)
    {
        var calls = _workers.Select((w, r) => call(w, r)).ToArray();
        try
        {
            return await Task.WhenAll(calls);
        }
        catch (Exception)
        {
            int rank = Array.FindIndex(calls, c => c.IsFaulted);
            var exception = calls[rank].Exception!.InnerException!;
            string silo = rank < _workerInfos.Length ? $" on silo {_workerInfos[rank].Silo}" : "";
            throw new RunFailureException(
                $"Worker rank {rank}{silo} failed during {activity}: {Describe(exception)}", exception);
        }
    }

    private static void CheckSameData(WorkerInfo expected, WorkerInfo actual)
    {
        if (actual.TrainRows != expected.TrainRows || actual.TestRows != expected.TestRows
            || !actual.SampleShape.SequenceEqual(expected.SampleShape) || actual.ClassCount != expected.ClassCount)
        {
            throw new RunFailureException(
                $"Worker rank {actual.Rank} on silo {actual.Silo} sees a different dataset ({actual.TrainRows} train "
                + $"rows, {actual.TestRows} test rows, {actual.ClassCount} classes) than rank {expected.Rank} on "
                + $"silo {expected.Silo} ({expected.TrainRows}, {expected.TestRows}, {expected.ClassCount}): give "
                + "every silo the same copy of the dataset.");
        }
    }

    private void ThrowIfCancelled()
    {
        if (_cancelReason is not null)
        {
            throw new RunCancelledException();
        }
    }

    // Lets the run's grains go; they hold models and gradient buffers.
    private async Task ReleaseAsync()
    {
        try
        {
            await Task.WhenAll(_workers.Select(w => w.LeaveAsync())
                .Concat(_reducers.Select(r => r.LeaveAsync())));
        }
        catch (Exception exception)
        {
            LogReleaseFailed(RunId, Describe(exception));
        }
    }

    private RunStatus Status() => new(
        RunId, _state, _log.LastSequence, _globalStep, _reason, _spec, _createdAt, _startedAt, _finishedAt,
        _epochsDone, _lastTestAccuracy, _spec?.Workers ?? 0, silo.SiloAddress.ToParsableString());

    // Keeps the cluster's run index current; a failure there must not stop the run, so it is only logged.
    private async Task RecordAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IRunRegistryGrain>(RunRegistry.Key).RecordAsync(Status());
        }
        catch (Exception exception)
        {
            LogRecordFailed(RunId, Describe(exception));
        }
    }

    private static string Describe(Exception exception) => $"{exception.GetType().Name}: {exception.Message}";

    [LoggerMessage(1, LogLevel.Information,
        "Run {RunId} started: {Workers} workers, {Shards} shards on {Silos} silos, {Parameters} parameters")]
    private partial void LogRunStarted(string runId, int workers, int shards, int silos, int parameters);

    [LoggerMessage(2, LogLevel.Information, "Run {RunId} completed after {Steps} steps, test accuracy {Accuracy}")]
    private partial void LogRunCompleted(string runId, long steps, double accuracy);

    [LoggerMessage(3, LogLevel.Error, "Run {RunId} failed: {Reason}")]
    private partial void LogRunFailed(string runId, string reason);

    [LoggerMessage(4, LogLevel.Information, "Run {RunId} cancelled: {Reason}")]
    private partial void LogRunCancelled(string runId, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Run {RunId}: releasing its grains failed: {Reason}")]
    private partial void LogReleaseFailed(string runId, string reason);

    [LoggerMessage(6, LogLevel.Warning, "Run {RunId}: updating the run registry failed: {Reason}")]
    private partial void LogRecordFailed(string runId, string reason);

    private sealed class RunCancelledException : Exception
    {
    }

    private sealed class RunFailureException(string message, Exception? inner = null) : Exception(message, inner)
    {
    }
}
