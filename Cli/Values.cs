using System.Globalization;
using System.Text.RegularExpressions;
using Granary.Cli.Api;

namespace Granary.Cli;

/// <summary>What operators type: durations such as <c>7d</c>, <c>1h30m</c> or <c>250ms</c>, sizes such as <c>512MiB</c>, and <c>none</c>.</summary>
internal static partial class Values
{
    public const string None = "none";

    /// <summary>A duration as the admin API takes it (<c>d.hh:mm:ss.fffffff</c>).</summary>
    public static string Duration(string text, string option)
    {
        if (TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var exact)) return Checked(exact, text, option);
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || match.Length == 0)
            throw new CliException(ExitCodes.Usage, $"{option}: '{text}' is not a duration; write it like 7d, 12h, 1h30m, 45s or 250ms.");
        var span = TimeSpan.Zero;
        try
        {
            foreach (Capture part in match.Groups["part"].Captures)
            {
                var piece = PartPattern().Match(part.Value);
                double value = double.Parse(piece.Groups[1].Value, CultureInfo.InvariantCulture);
                span += piece.Groups[2].Value switch
                {
                    "d" => TimeSpan.FromDays(value),
                    "h" => TimeSpan.FromHours(value),
                    "m" => TimeSpan.FromMinutes(value),
                    "s" => TimeSpan.FromSeconds(value),
                    _ => TimeSpan.FromMilliseconds(value),
                };
            }
        }
        catch (OverflowException)
        {
            throw new CliException(ExitCodes.Usage, $"{option}: '{text}' is longer than a duration can be (about 29,000 years).");
        }
        return Checked(span, text, option);
    }

    /// <summary>A size in bytes: a number, optionally with KiB, MiB, GiB or TiB (KB, MB, GB, TB mean the same here).</summary>
    public static long Size(string text, string option)
    {
        var match = SizePattern().Match(text.Trim());
        if (!match.Success) throw new CliException(ExitCodes.Usage, $"{option}: '{text}' is not a size; write it like 1048576, 512MiB or 10GiB.");
        double value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        int power = match.Groups[2].Value.ToUpperInvariant() switch { "" or "B" => 0, "K" => 1, "M" => 2, "G" => 3, _ => 4 };
        double bytes = value * Math.Pow(1024, power);
        if (bytes >= long.MaxValue) throw new CliException(ExitCodes.Usage, $"{option}: '{text}' is larger than a size can be (8 EiB).");
        return (long)bytes;
    }

    private static string Checked(TimeSpan span, string text, string option) =>
        span > TimeSpan.Zero ? span.ToString("c", CultureInfo.InvariantCulture)
        : throw new CliException(ExitCodes.Usage, $"{option}: '{text}' must be longer than zero.");

    [GeneratedRegex(@"^(?<part>\d+(?:\.\d+)?(?:ms|d|h|m|s))+$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|d|h|m|s)$")]
    private static partial Regex PartPattern();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(?:([KMGT])i?B?|(B)?)$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();
}
