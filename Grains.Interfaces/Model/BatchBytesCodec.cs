using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace Granary.Grains;

/// <summary>
/// Orleans codec for <see cref="BatchBytes"/>: on the wire exactly as a <c>byte[]</c> (length-prefixed bytes); read into
/// an array rented from the shared pool instead of a new array per call, since a produce call carries one batch of up to
/// megabytes and the partition is done with it once the log has written it.
/// </summary>
[RegisterSerializer]
public sealed class BatchBytesCodec : IFieldCodec<BatchBytes>
{
    /// <inheritdoc/>
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, [AllowNull] Type expectedType, [AllowNull] BatchBytes value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (ReferenceCodec.TryWriteReferenceField(ref writer, fieldIdDelta, expectedType, value)) return;
        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(BatchBytes), WireType.LengthPrefixed);
        var bytes = value.Memory.Span;
        writer.WriteVarUInt32((uint)bytes.Length);
        writer.Write(bytes);
    }

    /// <inheritdoc/>
    [return: MaybeNull]
    public BatchBytes ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        if (field.WireType == WireType.Reference) return ReferenceCodec.ReadReference<BatchBytes, TInput>(ref reader, field)!;
        field.EnsureWireType(WireType.LengthPrefixed);
        uint length = reader.ReadVarUInt32();
        // A length larger than what arrived never sizes a rental: the message holds the whole body.
        reader.EnsureAvailable(length);
        var result = BatchBytes.Rent(checked((int)length), out var bytes);
        reader.ReadBytes(bytes);
        ReferenceCodec.RecordObject(reader.Session, result);
        return result;
    }
}
