using System.Globalization;
using System.Text.Json.Nodes;

namespace Granary.Cli.Output;

/// <summary>How values read in a table: sizes in KiB/MiB, durations as 7d or 1h30m, absent values as a dash.</summary>
internal static class Format
{
    public const string None = "-";

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB"),
    };

    public static string Duration(TimeSpan span)
    {
        if (span == TimeSpan.Zero) return "0s";
        if (span < TimeSpan.FromSeconds(1)) return $"{(long)span.TotalMilliseconds}ms";
        var parts = new List<string>();
        if (span.Days > 0) parts.Add($"{span.Days}d");
        if (span.Hours > 0) parts.Add($"{span.Hours}h");
        if (span.Minutes > 0) parts.Add($"{span.Minutes}m");
        if (span.Seconds > 0) parts.Add($"{span.Seconds}s");
        return string.Concat(parts);
    }

    /// <summary>A duration the API wrote (<c>[d.]hh:mm:ss</c>), or a dash for null.</summary>
    public static string Duration(JsonNode? node) =>
        node is null ? None : TimeSpan.TryParse(node.GetValue<string>(), CultureInfo.InvariantCulture, out var span) ? Duration(span) : node.GetValue<string>();

    public static string Text(JsonNode? node) => node switch
    {
        null => None,
        JsonArray array => array.Count == 0 ? None : string.Join(",", array.Select(Text)),
        JsonValue value when value.TryGetValue(out string? s) => s,
        JsonValue value when value.TryGetValue(out double d) => d.ToString(CultureInfo.InvariantCulture),
        _ => node.ToJsonString(),
    };

    public static string Number(JsonNode? node) => node is null ? None : node.GetValue<long>().ToString(CultureInfo.InvariantCulture);

    public static string Time(JsonNode? node) =>
        node is null ? None : DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture).ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
