namespace Granary.Tests.Fixtures;

/// <summary>A record of a pull's answer or a fetch, with its key copied out for easy assertions.</summary>
public sealed record PulledMessage(long Offset, long TimestampMs, byte[]? Key, ReadOnlyMemory<byte> Payload, long? ExpiresAtMs);
