namespace DistributedBackprop.Core.Parameters;

/// <summary>Collects segments while a model is built; layers declare their parameters in order.</summary>
public sealed class ParameterLayoutBuilder
{
    private readonly List<ParameterSegment> _segments = [];
    private readonly Stack<string> _scopes = new();
    private int _count;
    private int _nextStreamId;

    public int Count => _count;

    /// <summary>
    /// Returns 0, 1, 2, ... in call order. Parameter-free layers that draw random numbers (dropout) take one at
    /// build time, so every model built from the same spec gives each of them the same distinct stream.
    /// </summary>
    public int NextStreamId() => _nextStreamId++;

    /// <summary>Prefixes the names of the segments added until the returned scope is disposed.</summary>
    public IDisposable Scope(string name)
    {
        _scopes.Push(name);
        return new PopScope(_scopes);
    }

    public ParameterSegment Add(string name, ParameterKind kind, params int[] shape) => Add(name, kind, 0f, shape);

    public ParameterSegment Add(string name, ParameterKind kind, float momentum, params int[] shape)
    {
        string fullName = _scopes.Count == 0 ? name : string.Join('.', _scopes.Reverse()) + "." + name;
        var segment = new ParameterSegment(fullName, _count, shape, kind, momentum);
        if ((long)_count + segment.Length > int.MaxValue)
        {
            throw new InvalidOperationException("The model has more than 2^31 parameters.");
        }

        _count += segment.Length;
        _segments.Add(segment);
        return segment;
    }

    public ParameterLayout Build() => new(_segments.ToArray());

    private sealed class PopScope(Stack<string> scopes) : IDisposable
    {
        public void Dispose() => scopes.Pop();
    }
}
