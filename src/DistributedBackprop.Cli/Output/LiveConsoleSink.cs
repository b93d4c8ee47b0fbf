using DistributedBackprop.Core.Training;
using Spectre.Console;

namespace DistributedBackprop.Cli.Output;

/// <summary>
/// A progress bar per epoch with loss, accuracy and samples/s, and a summary line per finished epoch.
/// Spectre.Console redraws from its own thread; the training thread only updates task state.
/// </summary>
internal sealed class LiveConsoleSink(IAnsiConsole console) : IProgressSink
{
    private ProgressContext? _context;
    private ProgressTask? _epochTask;
    private DateTime _epochStarted;
    private int _epochSamples;

    public async Task<T> RunAsync<T>(Func<Task<T>> training)
    {
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
                result = await training();
            });
        return result;
    }

    public void OnStep(StepReport report)
    {
        if (_context is null)
        {
            return;
        }

        if (_epochTask is null || report.Step == 1)
        {
            _epochTask?.StopTask();
            _epochTask = _context.AddTask(Describe(report.Epoch, null, null), maxValue: report.StepsPerEpoch);
            _epochStarted = DateTime.UtcNow;
            _epochSamples = 0;
        }

        _epochSamples += report.Samples;
        double seconds = Math.Max((DateTime.UtcNow - _epochStarted).TotalSeconds, 1e-6);
        _epochTask.Value = report.Step;
        _epochTask.Description = Describe(report.Epoch, report.Loss, _epochSamples / seconds);
    }

    public void OnEpoch(EpochReport report)
    {
        if (_epochTask is not null)
        {
            _epochTask.Value = _epochTask.MaxValue;
            _epochTask.Description =
                $"epoch {report.Epoch,3}/{report.Epochs}  train loss {report.TrainLoss:F4}  " +
                $"test loss {report.TestLoss:F4}  [green]test acc {report.TestAccuracy:P2}[/]  " +
                $"{report.SamplesPerSecond:N0} samples/s  workers {report.Workers}";
            _epochTask.StopTask();
            _epochTask = null;
        }
    }

    public void OnCompleted(int epochs, double testAccuracy, double elapsedSeconds) =>
        console.MarkupLine(
            $"[bold green]Completed[/] {epochs} epochs: test accuracy [bold]{testAccuracy:P2}[/] in {elapsedSeconds:F1} s");

    public void OnFailed(string reason) => console.MarkupLine($"[bold red]Failed:[/] {Markup.Escape(reason)}");

    private static string Describe(int epoch, double? loss, double? samplesPerSecond) =>
        loss is null
            ? $"epoch {epoch,3}  starting"
            : $"epoch {epoch,3}  loss {loss:F4}  {samplesPerSecond:N0} samples/s";
}
