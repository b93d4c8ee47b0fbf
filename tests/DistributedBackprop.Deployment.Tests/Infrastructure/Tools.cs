using System.Diagnostics;
using System.Text;

namespace DistributedBackprop.Deployment.Tests.Infrastructure;

/// <summary>Finds and runs the external tools the deployment tests check files with.</summary>
public static class Tools
{
    /// <summary>The full path of <paramref name="name"/> on PATH.</summary>
    /// <exception cref="InvalidOperationException">Not installed; says how to install it (tests/run-all.sh
    /// does).</exception>
    public static string Require(string name, string install)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string candidate = Path.Combine(directory, name);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"'{name}' is not installed; install it with `{install}` (tests/run-all.sh does this).");
    }

    /// <summary>Runs a tool to its end in <paramref name="workingDirectory"/>; returns its exit code and its
    /// standard output and error together.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName,
        string workingDirectory,
        params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }
}
