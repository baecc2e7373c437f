using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace Granary.Grains;

/// <summary>
/// Orleans codec for <see cref="PulledBytes"/>: on the wire exactly as a <c>byte[]</c> (length-prefixed bytes). Writing
/// copies the bytes into the outgoing message and then returns a rented array to the pool (the answer's only writer;
/// see <see cref="PulledBytes"/> for why a body is written once). Reading allocates an array of the exact length that
/// the receiver keeps: the consumer's messages are views over it for as long as it holds them.
/// </summary>
[RegisterSerializer]
public sealed class PulledBytesCodec : IFieldCodec<PulledBytes>
{
    /// <inheritdoc/>
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, [AllowNull] Type expectedType, [AllowNull] PulledBytes value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (ReferenceCodec.TryWriteReferenceField(ref writer, fieldIdDelta, expectedType, value)) return;
        // Read first: bytes already given back fail here, before anything is written.
        var bytes = value.Memory.Span;
        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(PulledBytes), WireType.LengthPrefixed);
        writer.WriteVarUInt32((uint)bytes.Length);
        writer.Write(bytes);
        value.ReturnToPool();
    }

    /// <inheritdoc/>
    [return: MaybeNull]
    public PulledBytes ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        if (field.WireType == WireType.Reference) return ReferenceCodec.ReadReference<PulledBytes, TInput>(ref reader, field)!;
        field.EnsureWireType(WireType.LengthPrefixed);
        uint length = reader.ReadVarUInt32();
        // A length larger than what arrived never sizes an allocation: the message holds the whole body.
        reader.EnsureAvailable(length);
        var bytes = new byte[checked((int)length)];
        reader.ReadBytes(bytes);
        var result = new PulledBytes(bytes);
        ReferenceCodec.RecordObject(reader.Session, result);
        return result;
    }
}
