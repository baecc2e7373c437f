using System.CommandLine;
using System.Globalization;
using Granary.Cli.Api;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary audit</c>: who changed what, and when (needs Admin on the cluster).</summary>
internal static class AuditCommands
{
    private static readonly Option<string?> Since = new("--since") { Description = "Only events since this time (2026-12-03T08:00:00Z) or this long ago (1h, 7d)." };
    private static readonly Option<int?> Limit = new("--limit") { Description = "At most this many events, newest first (1-1000, default 100)." };

    public static Command Build(TextWriter output)
    {
        var audit = new Command("audit", "The audit log, newest first: creates, alters, deletes, seeks, redrives, key and rule changes, with who made them.") { Since, Limit };
        audit.SetAction(Action(async (parse, api, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(Since) is { } since) query.Add("since=" + Uri.EscapeDataString(SinceTime(since).ToString("O", CultureInfo.InvariantCulture)));
            if (parse.GetValue(Limit) is { } limit) query.Add("limit=" + limit.ToString(CultureInfo.InvariantCulture));
            var events = await api.GetAsync("api/v1/audit" + (query.Count > 0 ? "?" + string.Join("&", query) : ""), ct);
            if (WroteJson(parse, output, events)) return;
            Table.Write(output, ["TIME", "PRINCIPAL", "ACTION", "TARGET", "DETAIL", "SILO"], events!.AsArray().Select(e => new[]
            {
                Format.Time(e!["time"]), Format.Text(e["principal"]), Format.Text(e["action"]), Format.Text(e["target"]), Format.Text(e["detail"]), Format.Text(e["silo"]),
            }));
        }));
        return audit;
    }

    private static DateTimeOffset SinceTime(string text)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)) return time;
        try
        {
            return DateTimeOffset.UtcNow - TimeSpan.Parse(Values.Duration(text, "--since"), CultureInfo.InvariantCulture);
        }
        catch (CliException)
        {
            throw new CliException(ExitCodes.Usage, $"--since: '{text}' is neither a time (2026-12-03T08:00:00Z) nor a duration (1h, 7d).");
        }
    }
}
