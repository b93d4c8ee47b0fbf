using DistributedBackprop.Contracts.V1;
using Google.Protobuf;
using Orleans.Serialization.Cloning;

namespace DistributedBackprop.Cluster.Serialization;

// Grain calls carry the public proto messages as their protobuf bytes: the proto stays the one definition of a
// spec or an event, and its wire format is already compact. Copiers clone, since protobuf messages are mutable.

[GenerateSerializer, Immutable, Alias("dbp.ProtobufBytes")]
public readonly record struct ProtobufBytes([property: Id(0)] byte[] Bytes);

[RegisterConverter]
public sealed class RunSpecConverter : IConverter<RunSpec, ProtobufBytes>
{
    public RunSpec ConvertFromSurrogate(in ProtobufBytes surrogate) => RunSpec.Parser.ParseFrom(surrogate.Bytes);

    public ProtobufBytes ConvertToSurrogate(in RunSpec value) => new(value.ToByteArray());
}

[RegisterConverter]
public sealed class RunEventConverter : IConverter<RunEvent, ProtobufBytes>
{
    public RunEvent ConvertFromSurrogate(in ProtobufBytes surrogate) => RunEvent.Parser.ParseFrom(surrogate.Bytes);

    public ProtobufBytes ConvertToSurrogate(in RunEvent value) => new(value.ToByteArray());
}

[RegisterCopier]
public sealed class RunSpecCopier : IDeepCopier<RunSpec>
{
    public RunSpec? DeepCopy(RunSpec? input, CopyContext context) => input?.Clone();
}

[RegisterCopier]
public sealed class RunEventCopier : IDeepCopier<RunEvent>
{
    public RunEvent? DeepCopy(RunEvent? input, CopyContext context) => input?.Clone();
}
