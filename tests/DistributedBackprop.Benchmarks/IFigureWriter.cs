namespace DistributedBackprop.Benchmarks;

/// <summary>Where figures go as they are measured.</summary>
internal interface IFigureWriter
{
    void Write(Figure figure);
}
