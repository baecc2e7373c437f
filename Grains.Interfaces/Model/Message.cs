namespace Granary.Grains;

/// <summary>A named header: a name and opaque bytes.</summary>
[GenerateSerializer, Immutable, Alias("granary.MessageHeader")]
public sealed record MessageHeader([property: Id(0)] string Name, [property: Id(1)] byte[] Value);

/// <summary>A message to append; the partition assigns its offset and timestamp.</summary>
/// <param name="Key">Ordering key (UTF-8 of the SDK's string key), or null.</param>
/// <param name="Payload">The body.</param>
/// <param name="Headers">Headers, or null.</param>
[GenerateSerializer, Immutable, Alias("granary.Message")]
public sealed record Message(
    [property: Id(0)] byte[]? Key,
    [property: Id(1)] ReadOnlyMemory<byte> Payload,
    [property: Id(2)] MessageHeader[]? Headers)
{
    /// <summary>Bytes counted against a topic's <c>MaxMessageBytes</c>: payload, key, header names and values.</summary>
    public int SizeInBytes()
    {
        long size = Payload.Length + (Key?.Length ?? 0);
        if (Headers is not null)
            foreach (var header in Headers) size += System.Text.Encoding.UTF8.GetByteCount(header.Name) + header.Value.Length;
        return (int)Math.Min(int.MaxValue, size);
    }
}

/// <summary>Messages for one partition, appended together in one call.</summary>
[GenerateSerializer, Immutable, Alias("granary.MessageBatch")]
public sealed record MessageBatch([property: Id(0)] Message[] Messages);

/// <summary>Where a batch landed: message i has offset <c>BaseOffset + i</c>.</summary>
[GenerateSerializer, Immutable, Alias("granary.AppendResult")]
public sealed record AppendResult([property: Id(0)] long BaseOffset, [property: Id(1)] int Count, [property: Id(2)] long TimestampMs);
