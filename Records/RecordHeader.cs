namespace Granary.Records;

/// <summary>A named header of a record: a UTF-8 name and opaque bytes.</summary>
/// <param name="Name">Header name; must not be null.</param>
/// <param name="Value">Header value; may be empty.</param>
public readonly record struct RecordHeader(string Name, ReadOnlyMemory<byte> Value);
