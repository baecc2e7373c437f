namespace Granary;

/// <summary>
/// How error messages quote what a caller sent: at most <see cref="MaxChars"/> characters, control characters
/// replaced, and the full length said, so that a 20 MB name gives a short error rather than a 20 MB one.
/// </summary>
public static class EchoedInput
{
    /// <summary>The most characters of an input an error message repeats. 100.</summary>
    public const int MaxChars = 100;

    /// <summary>
    /// <paramref name="value"/> as an error message may quote it: unchanged when short, else its first
    /// <see cref="MaxChars"/> characters followed by <c>…(N chars)</c>; control characters (line breaks) become
    /// <c>?</c>, so a quoted input cannot start new lines in a message or a log. Null becomes an empty string.
    /// </summary>
    public static string Of(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        bool shortened = value.Length > MaxChars;
        var kept = value.AsSpan(0, shortened ? MaxChars : value.Length);
        string text = kept.ContainsAnyInRange('\0', '\u001f') || kept.Contains('\u007f')
            ? string.Create(kept.Length, value, static (span, source) =>
            {
                for (int i = 0; i < span.Length; i++) span[i] = char.IsControl(source[i]) ? '?' : source[i];
            })
            : kept.ToString();
        return shortened ? $"{text}…({value.Length} chars)" : text;
    }
}
