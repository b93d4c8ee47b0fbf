using DistributedBackprop.Contracts.V1;
using Spectre.Console;

namespace DistributedBackprop.Cli.Output;

/// <summary>
/// A progress bar per epoch with loss and samples/s, turned into a summary line (test loss, accuracy,
/// samples/s, workers) when the epoch ends; a first line describes the run and a last one says how it ended.
/// Spectre.Console redraws from its own thread; events only update task state. Without an interactive terminal
/// (output redirected) it prints plain lines instead: the run, each epoch's summary, the end.
/// </summary>
internal sealed class LiveConsoleSink(IAnsiConsole console) : IProgressSink
{
    private ProgressContext? _context;
    private ProgressTask? _epochTask;
    private DateTime _firstStepSeen;
    private long _firstStep;
    private int _batchSize;
    private int _epochs;
    private string? _ending;

    public async Task<T> RunAsync<T>(Func<Task<T>> follow)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return await follow();
        }

        T result = default!;
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new SpinnerColumn())
            .StartAsync(async context =>
            {
                _context = context;
                result = await follow();
            });
        _context = null;

        // After the live view, so the last line stays below every bar.
        if (_ending is not null)
        {
            console.MarkupLine(_ending);
        }

        return result;
    }

    public void OnEvent(RunEvent runEvent)
    {
        switch (runEvent.EventCase)
        {
            case RunEvent.EventOneofCase.RunStarted:
                OnStarted(runEvent.RunId, runEvent.RunStarted);
                break;
            case RunEvent.EventOneofCase.StepProgress:
                OnStep(runEvent.StepProgress);
                break;
            case RunEvent.EventOneofCase.EpochCompleted:
                OnEpoch(runEvent.EpochCompleted);
                break;
            case RunEvent.EventOneofCase.RunCompleted:
                var completed = runEvent.RunCompleted;
                End($"[bold green]Completed[/] {_epochs} epochs ({completed.Steps} steps): test accuracy "
                    + $"[bold]{completed.TestAccuracy:P2}[/] in {completed.ElapsedSeconds:F1} s");
                break;
            case RunEvent.EventOneofCase.RunFailed:
                OnFailed(runEvent.RunFailed.Reason);
                break;
            case RunEvent.EventOneofCase.RunCancelled:
                End($"[bold yellow]Cancelled:[/] {Markup.Escape(runEvent.RunCancelled.Reason)}");
                break;
        }
    }

    public void OnFailed(string reason) => End($"[bold red]Failed:[/] {Markup.Escape(reason)}");

    private void OnStarted(string runId, RunStarted started)
    {
        _batchSize = started.Spec?.BatchSize ?? 0;
        _epochs = started.Spec?.Epochs ?? 0;
        Line($"Run [bold]{Markup.Escape(runId)}[/]: {started.ParameterCount:N0} parameters, "
            + $"{started.Spec?.Workers} workers and {started.ShardSilos.Count} parameter shards on {started.Silos} "
            + $"silo(s), {started.StepsPerEpoch} steps per epoch");
    }

    private void OnStep(StepProgress step)
    {
        if (_context is null)
        {
            return;
        }

        // The rate counts from the epoch's first step event seen: earlier steps' times are unknown here.
        if (_epochTask is null)
        {
            _epochTask = _context.AddTask(Describe(step.Epoch, null, null), maxValue: step.StepsPerEpoch);
            _firstStepSeen = DateTime.UtcNow;
            _firstStep = step.GlobalStep;
        }

        double seconds = (DateTime.UtcNow - _firstStepSeen).TotalSeconds;
        double? rate = step.GlobalStep > _firstStep && seconds > 0
            ? (step.GlobalStep - _firstStep) * (double)_batchSize / seconds
            : null;
        _epochTask.Value = step.Step;
        _epochTask.Description = Describe(step.Epoch, step.Loss, rate);
    }

    private void OnEpoch(EpochCompleted epoch)
    {
        _epochs = epoch.Epochs;
        string summary =
            $"epoch {epoch.Epoch,3}/{epoch.Epochs}  train loss {epoch.TrainLoss:F4}  " +
            $"test loss {epoch.TestLoss:F4}  [green]test acc {epoch.TestAccuracy:P2}[/]  " +
            $"{epoch.SamplesPerSecond:N0} samples/s  workers {epoch.Workers}";
        if (_epochTask is null)
        {
            Line(summary);
            return;
        }

        _epochTask.Value = _epochTask.MaxValue;
        _epochTask.Description = summary;
        _epochTask.StopTask();
        _epochTask = null;
    }

    private void End(string markup)
    {
        if (_context is null)
        {
            console.MarkupLine(markup);
        }
        else
        {
            _ending = markup;
        }
    }

    // Inside the live view a finished task is the only safe way to print a line; outside it, print directly.
    private void Line(string markup)
    {
        if (_context is null)
        {
            console.MarkupLine(markup);
            return;
        }

        var task = _context.AddTask(markup, maxValue: 1);
        task.Value = 1;
        task.StopTask();
    }

    private static string Describe(int epoch, double? loss, double? samplesPerSecond) => (loss, samplesPerSecond) switch
    {
        (null, _) => $"epoch {epoch,3}  starting",
        (_, null) => $"epoch {epoch,3}  loss {loss:F4}",
        _ => $"epoch {epoch,3}  loss {loss:F4}  {samplesPerSecond:N0} samples/s",
    };
}
