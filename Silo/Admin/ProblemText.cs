namespace Granary.Silo.Admin;

/// <summary>
/// The <c>detail</c> of a problem answer made from an exception's message: its first line only, at most
/// <see cref="MaxChars"/> characters. The README promises that answers never carry server stack traces, and some
/// messages embed them (Orleans puts the failed storage call's exception, stack and all, on the lines after its
/// first); inputs echoed in a message are bounded the same way.
/// </summary>
internal static class ProblemText
{
    /// <summary>The longest detail an answer carries. 1000.</summary>
    public const int MaxChars = 1000;

    public static string Detail(string message)
    {
        int lineEnd = message.AsSpan().IndexOfAny('\r', '\n');
        string line = (lineEnd < 0 ? message : message[..lineEnd]).TrimEnd();
        return line.Length <= MaxChars ? line : $"{line[..MaxChars]}…({line.Length} chars)";
    }
}
