using System.CommandLine;
using DistributedBackprop.Cli.Commands;
using DistributedBackprop.Contracts.V1;

namespace DistributedBackprop.Server.Tests.Cli;

public sealed class TrainOptionsTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"dbp-spec-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void ReadSpec_NoFlags_TodaysDefaultsWithFourWorkersAndTwoShards()
    {
        var spec = Read();

        Assert.Equal("mlp", spec.Preset);
        Assert.Equal("fashion-mnist", spec.DatasetName);
        Assert.Equal((10, 128, 4, 4, 2, 42ul), (spec.Epochs, spec.BatchSize, spec.MicroBatches, spec.Workers,
            spec.ParameterShards, spec.Seed));
        Assert.Equal("adam", spec.Optimizer.Kind);
        Assert.Equal(1e-3f, spec.Optimizer.LearningRate);
        Assert.Equal("cosine", spec.Schedule.Kind);
        Assert.False(spec.HasClipNorm);
        Assert.Equal(0, spec.ThreadsPerWorker);
    }

    [Fact]
    public void ReadSpec_SpecFileAndExplicitFlags_FlagsOverrideFileAndDefaultsFillTheRest()
    {
        File.WriteAllText(_file, """
            {"preset": "cnn", "batchSize": 64, "epochs": 3, "optimizer": {"kind": "sgd"}, "clipNorm": 2.5}
            """);

        var spec = Read("--spec", _file, "--epochs", "5", "--workers", "2");

        Assert.Equal("cnn", spec.Preset);
        Assert.Equal(64, spec.BatchSize);
        Assert.Equal(5, spec.Epochs);
        Assert.Equal(2, spec.Workers);
        Assert.Equal(2, spec.ParameterShards);
        Assert.Equal("sgd", spec.Optimizer.Kind);
        Assert.Equal(0.05f, spec.Optimizer.LearningRate);
        Assert.Equal(2.5f, spec.ClipNorm);
        Assert.Equal("fashion-mnist", spec.DatasetName);
    }

    [Fact]
    public void ReadSpec_ThreadsFlag_DividedAmongWorkers()
    {
        var spec = Read("--threads", "8", "--workers", "4");

        Assert.Equal(2, spec.ThreadsPerWorker);
    }

    [Fact]
    public void ReadSpec_SpecFileWithUnknownField_ArgumentExceptionNamingTheOption()
    {
        File.WriteAllText(_file, """{"batch_sise": 64}""");

        var error = Assert.Throws<ArgumentException>(() => Read("--spec", _file));

        Assert.StartsWith("--spec:", error.Message, StringComparison.Ordinal);
    }

    private static RunSpec Read(params string[] args)
    {
        var options = new TrainOptions();
        var command = new Command("train");
        options.AddTo(command);
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        return options.ReadSpec(parse);
    }
}
