namespace DistributedBackprop.Core.Layers;

/// <summary>
/// Fuses neighbouring layers of a sequential model whose joint pass can skip a trip through memory, without
/// changing the layer list (so parameter names and checkpoints stay as they are) or any result bit.
/// </summary>
internal static class LayerFusion
{
    /// <summary>BatchNorm followed by ReLU: the batch norm applies the ReLU on each row while it is in cache,
    /// and the ReLU passes its tensors through. Each layer's output feeds only the next in a sequential
    /// model, so no other layer sees the difference.</summary>
    public static void Apply(IReadOnlyList<Layer> layers)
    {
        for (int i = 0; i + 1 < layers.Count; i++)
        {
            if (layers[i] is BatchNorm batchNorm && layers[i + 1] is ReLU relu)
            {
                batchNorm.FuseRelu();
                relu.FuseIntoPrevious();
            }
        }
    }
}
