namespace Granary.Client.Serialization;

/// <summary>Compares the <see cref="GranaryHeaders.ContentType"/> header with a serializer's content type.</summary>
internal static class ContentTypes
{
    /// <summary>
    /// True when <paramref name="header"/> (null: the message has none, as messages from untyped producers) may be
    /// read by a serializer of <paramref name="expected"/>: same media type, ignoring case and parameters.
    /// </summary>
    public static bool Accepts(string? header, string expected)
    {
        if (header is null) return true;
        return MediaType(header).Equals(MediaType(expected), StringComparison.OrdinalIgnoreCase);
    }

    private static ReadOnlySpan<char> MediaType(string contentType)
    {
        int parameters = contentType.IndexOf(';', StringComparison.Ordinal);
        return (parameters < 0 ? contentType.AsSpan() : contentType.AsSpan(0, parameters)).Trim();
    }
}
