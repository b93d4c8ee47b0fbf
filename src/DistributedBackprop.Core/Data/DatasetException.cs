namespace DistributedBackprop.Core.Data;

/// <summary>
/// A dataset could not be found, read or validated. The message names the file (and, for a format error,
/// the byte offset or line and column), the problem, and where possible what would fix it.
/// </summary>
public sealed class DatasetException : Exception
{
    public DatasetException()
    {
    }

    public DatasetException(string message)
        : base(message)
    {
    }

    public DatasetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
