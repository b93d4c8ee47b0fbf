using CoreLayerSpec = DistributedBackprop.Core.Models.LayerSpec;
using ProtoLayerSpec = DistributedBackprop.Contracts.V1.LayerSpec;

namespace DistributedBackprop.Cli.Commands;

/// <summary>A Core model file's layers as the proto's LayerSpec, field for field (the inverse of the cluster's
/// mapping), so <c>--model PATH.json</c> reaches the server as an explicit layer list.</summary>
internal static class ModelConversion
{
    public static ProtoLayerSpec ToProto(CoreLayerSpec layer)
    {
        var proto = new ProtoLayerSpec { Type = layer.Type };
        if (layer.Units is int units)
        {
            proto.Units = units;
        }

        if (layer.Filters is int filters)
        {
            proto.Filters = filters;
        }

        if (layer.KernelSize is int kernelSize)
        {
            proto.KernelSize = kernelSize;
        }

        if (layer.Stride is int stride)
        {
            proto.Stride = stride;
        }

        if (layer.Padding is int padding)
        {
            proto.Padding = padding;
        }

        if (layer.Size is int size)
        {
            proto.Size = size;
        }

        if (layer.Rate is float rate)
        {
            proto.Rate = rate;
        }

        if (layer.Slope is float slope)
        {
            proto.Slope = slope;
        }

        if (layer.Momentum is float momentum)
        {
            proto.Momentum = momentum;
        }

        if (layer.Epsilon is float epsilon)
        {
            proto.Epsilon = epsilon;
        }

        if (layer.Init is string init)
        {
            proto.Init = init;
        }

        proto.Body.AddRange((layer.Body ?? []).Select(ToProto));
        proto.Projection.AddRange((layer.Projection ?? []).Select(ToProto));
        return proto;
    }
}
