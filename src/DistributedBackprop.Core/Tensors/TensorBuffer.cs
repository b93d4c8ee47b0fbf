namespace DistributedBackprop.Core.Tensors;

/// <summary>
/// A tensor slot that layers reuse from step to step: reallocated only when the requested batch size grows
/// past the capacity, so a training step in steady state allocates nothing.
/// </summary>
public sealed class TensorBuffer
{
    private float[] _data = [];
    private Tensor? _view;

    /// <summary>A (batch, ...sampleShape) tensor; contents are unspecified (not cleared).</summary>
    public Tensor Get(int batch, int[] sampleShape)
    {
        if (_view is not null && _view.Shape[0] == batch)
        {
            return _view;
        }

        long needed = batch * ShapeUtil.Product(sampleShape);
        if (_data.Length < needed)
        {
            _data = new float[needed];
        }

        _view = new Tensor(_data, 0, ShapeUtil.WithBatch(batch, sampleShape));
        return _view;
    }
}
