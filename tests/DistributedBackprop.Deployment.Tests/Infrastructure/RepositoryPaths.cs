namespace DistributedBackprop.Deployment.Tests.Infrastructure;

/// <summary>Files of the repository, found from the test assembly's directory upwards.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The directory holding DistributedBackprop.sln.</summary>
    public static string Root => RootPath.Value;

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null;
             directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "DistributedBackprop.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No DistributedBackprop.sln above {AppContext.BaseDirectory}; run the tests from the repository.");
    }
}
