namespace DistributedBackprop.Core.Training;

/// <summary>A run stopped because training itself went wrong, e.g. a non-finite loss or gradient.</summary>
public sealed class TrainingException : Exception
{
    public TrainingException()
    {
    }

    public TrainingException(string message)
        : base(message)
    {
    }

    public TrainingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
