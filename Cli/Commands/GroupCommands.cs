using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Granary.Cli.Api;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary groups list|describe|lag|seek</c>.</summary>
internal static class GroupCommands
{
    internal static readonly Argument<string> Topic = new("topic") { Description = "Topic the group reads." };
    internal static readonly Argument<string> Group = new("group") { Description = "Consumer group." };
    private static readonly Option<string?> TopicFilter = new("--topic") { Description = "Only this topic's groups." };
    private static readonly Option<string> To = new("--to") { Description = "earliest, latest, offset (with --offset) or timestamp (with --timestamp).", Required = true };
    private static readonly Option<long?> Offset = new("--offset") { Description = "With --to offset: the offset." };
    private static readonly Option<int?> Partition = new("--partition") { Description = "With --to offset: only this partition." };
    private static readonly Option<string?> Timestamp = new("--timestamp") { Description = "With --to timestamp: an ISO 8601 time, e.g. 2026-12-03T08:00:00Z." };

    public static Command Build(TextWriter output)
    {
        var list = new Command("list", "Consumer groups with their mode, members and lag.") { TopicFilter };
        list.SetAction(Action(async (parse, api, ct) =>
        {
            string path = parse.GetValue(TopicFilter) is { } topic ? $"api/v1/topics/{Segment(topic)}/groups" : "api/v1/groups";
            var groups = await api.GetAsync(path, ct);
            if (WroteJson(parse, output, groups)) return;
            Table.Write(output, ["TOPIC", "GROUP", "MODE", "MEMBERS", "LAG", "IN-FLIGHT", "OLDEST UNACKED"], groups!.AsArray().Select(g => new[]
            {
                Format.Text(g!["topic"]), Format.Text(g["group"]), Format.Text(g["mode"]), g["members"]!.AsArray().Count.ToString(CultureInfo.InvariantCulture),
                Format.Number(g["lag"]!["total"]), Format.Number(g["lag"]!["inFlight"]), Age(g["lag"]!["oldestUnackedAgeMs"]),
            }));
        }));

        var describe = new Command("describe", "A group's settings, members, assignment and lag per partition.") { Topic, Group };
        describe.SetAction(Action(async (parse, api, ct) =>
        {
            var group = await api.GetAsync(GroupPath(parse), ct);
            if (WroteJson(parse, output, group)) return;
            Table.WritePairs(output,
            [
                ("Topic", Format.Text(group!["topic"])),
                ("Group", Format.Text(group["group"])),
                ("Mode", Format.Text(group["mode"])),
                ("Start position", Format.Text(group["startPosition"])),
                ("Max deliveries", Format.Text(group["maxDeliveries"])),
                ("Dead-letter topic", Format.Text(group["deadLetterTopic"])),
                ("Members", Format.Text(group["members"])),
                ("Lag", Format.Number(group["lag"]!["total"])),
            ]);
            var assignment = group["assignment"]!.AsObject();
            output.WriteLine();
            WriteLag(output, group["lag"]!, p => assignment[Format.Text(p["partition"])] is { } owner ? Format.Text(owner) : Format.None);
        }));

        var lag = new Command("lag", "A group's lag per partition.") { Topic, Group };
        lag.SetAction(Action(async (parse, api, ct) =>
        {
            var body = await api.GetAsync(GroupPath(parse) + "/lag", ct);
            if (WroteJson(parse, output, body)) return;
            WriteLag(output, body!, owner: null);
            output.WriteLine($"Total lag: {Format.Number(body!["total"])}");
        }));

        var seek = new Command("seek", "Move a group to the earliest or latest message, an offset or a time.") { Topic, Group, To, Offset, Partition, Timestamp };
        seek.SetAction(Action(async (parse, api, ct) =>
        {
            var body = new JsonObject { ["to"] = parse.GetValue(To) };
            if (parse.GetValue(Offset) is { } offset) body["offset"] = offset;
            if (parse.GetValue(Partition) is { } partition) body["partition"] = partition;
            if (parse.GetValue(Timestamp) is { } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                    throw new CliException(ExitCodes.Usage, $"--timestamp: '{text}' is not a time; write it like 2026-12-03T08:00:00Z.");
                body["timestamp"] = time;
            }
            var after = await api.SendAsync(HttpMethod.Post, GroupPath(parse) + "/seek", body, ct);
            if (WroteJson(parse, output, after)) return;
            output.WriteLine($"Moved group {parse.GetValue(Group)} of {parse.GetValue(Topic)}; its lag is now {Format.Number(after!["total"])}.");
            WriteLag(output, after, owner: null);
        }));

        return new Command("groups", "List and describe consumer groups, show their lag, and move them.") { list, describe, lag, seek };
    }

    internal static string GroupPath(ParseResult parse) =>
        $"api/v1/topics/{Segment(parse.GetValue(Topic)!)}/groups/{Segment(parse.GetValue(Group)!)}";

    private static void WriteLag(TextWriter output, JsonNode lag, Func<JsonNode, string>? owner)
    {
        string[] headers = ["PARTITION", "END", "COMMITTED", "LAG", "IN-FLIGHT", "OLDEST UNACKED", "EXPIRED", "DEAD-LETTERED", "SKIPPED"];
        Table.Write(output, owner is null ? headers : [.. headers, "OWNER"], lag["partitions"]!.AsArray().Select(p =>
        {
            string[] row =
            [
                Format.Text(p!["partition"]), Format.Number(p["endOffset"]), Format.Number(p["committedOffset"]), Format.Number(p["lag"]),
                Format.Number(p["inFlight"]), Age(p["oldestUnackedAgeMs"]), Format.Number(p["expired"]), Format.Number(p["deadLettered"]), Format.Number(p["skipped"]),
            ];
            return owner is null ? row : [.. row, owner(p)];
        }));
    }

    private static string Age(JsonNode? milliseconds) =>
        milliseconds is null || (long)milliseconds == 0 ? Format.None : Format.Duration(TimeSpan.FromMilliseconds((long)milliseconds));
}
