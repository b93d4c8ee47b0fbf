using DistributedBackprop.Core.Tensors;

namespace DistributedBackprop.Core.Losses;

/// <summary>A gradient tensor shaped like the predictions, reused while their shape stays the same.</summary>
internal sealed class LossGradientBuffer
{
    private float[] _data = [];
    private Tensor? _view;

    public Tensor Like(Tensor predictions)
    {
        if (_view is not null && _view.Shape.AsSpan().SequenceEqual(predictions.Shape))
        {
            return _view;
        }

        if (_data.Length < predictions.Length)
        {
            _data = new float[predictions.Length];
        }

        _view = new Tensor(_data, 0, predictions.Shape.ToArray());
        return _view;
    }
}
