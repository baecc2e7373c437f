using System.Text;
using Granary.Client;

namespace Granary.Silo.Admin.Models;

/// <summary>A dead letter as the admin API shows it: why, where from, and a preview of its body.</summary>
/// <param name="Partition">Partition of the dead-letter topic.</param>
/// <param name="Offset">Offset there (what a redrive range is in).</param>
/// <param name="Reason">max-deliveries, expired or rejected.</param>
/// <param name="Attempts">Deliveries before it was dead-lettered.</param>
/// <param name="DeadLetteredAt">When.</param>
/// <param name="SourcePartition">Partition it came from.</param>
/// <param name="SourceOffset">Offset it had there.</param>
/// <param name="Key">Its key (UTF-8), or null.</param>
/// <param name="PayloadBytes">Size of its payload.</param>
/// <param name="PayloadEncoding"><c>utf8</c> or <c>base64</c>: how <paramref name="Payload"/> is written.</param>
/// <param name="Payload">The payload's first 1,024 bytes.</param>
/// <param name="Headers">The sender's headers (UTF-8), without Granary's own.</param>
public sealed record DeadLetterView(
    int Partition,
    long Offset,
    string Reason,
    int? Attempts,
    DateTimeOffset DeadLetteredAt,
    int SourcePartition,
    long SourceOffset,
    string? Key,
    int PayloadBytes,
    string PayloadEncoding,
    string Payload,
    Dictionary<string, string> Headers)
{
    private const int PreviewBytes = 1024;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    internal static DeadLetterView From(DeadLetter letter)
    {
        var message = letter.Message;
        var preview = message.Payload.Span[..Math.Min(PreviewBytes, message.Payload.Length)];
        string encoding = "utf8", payload;
        try
        {
            payload = StrictUtf8.GetString(preview);
        }
        catch (DecoderFallbackException)
        {
            // Binary, or a multi-byte character cut at the preview's end.
            (encoding, payload) = ("base64", Convert.ToBase64String(preview));
        }
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in message.Headers)
            if (!name.StartsWith("granary.", StringComparison.Ordinal)) headers[name] = Encoding.UTF8.GetString(value);
        return new(letter.Partition, letter.Offset, letter.Reason, letter.Attempts, letter.DeadLetteredAt, letter.SourcePartition, letter.SourceOffset,
            message.Key, message.Payload.Length, encoding, payload, headers);
    }
}

/// <summary>Which dead letters to redrive: offsets in [<see cref="FromOffset"/>, <see cref="ToOffset"/>) of the dead-letter
/// topic's partitions; all when both are left out.</summary>
public sealed class RedriveRequest
{
    /// <summary>First offset; default 0.</summary>
    public long? FromOffset { get; init; }

    /// <summary>End of the range (exclusive); default no end.</summary>
    public long? ToOffset { get; init; }
}

/// <summary>What a redrive did.</summary>
/// <param name="Redriven">Dead letters published again to their source partitions.</param>
public sealed record RedriveResult(int Redriven);
