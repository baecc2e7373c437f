using System.CommandLine;
using System.Text.Json.Nodes;
using Granary.Cli.Api;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary topics list|create|describe|alter|delete</c>.</summary>
internal static class TopicCommands
{
    private static readonly Argument<string> Name = new("topic") { Description = "Topic name." };
    private static readonly Option<int?> Partitions = new("--partitions") { Description = "Partition count (alter: only more)." };
    private static readonly Option<string?> Retention = new("--retention") { Description = "Delete segments older than this: 7d, 12h, ... (alter: 'none' clears)." };
    private static readonly Option<string?> RetentionBytes = new("--retention-bytes") { Description = "Delete the oldest segments above this size per partition: 10GiB, ... (alter: 'none' clears)." };
    private static readonly Option<string?> MaxMessage = new("--max-message-bytes") { Description = "Largest message accepted: 1MiB, ..." };
    private static readonly Option<string?> Ttl = new("--ttl") { Description = "Default time to live of messages: 1h, ... (alter: 'none' clears)." };
    private static readonly Option<int?> Replication = new("--replication-factor") { Description = "Copies of each partition (create only)." };
    private static readonly Option<int?> MinIsr = new("--min-insync-replicas") { Description = "Copies that must hold a batch before an acks-all send is confirmed (create only)." };
    private static readonly Option<string?> Dedup = new("--dedup-window") { Description = "Window of the message-id check, e.g. 10m (create only)." };
    private static readonly Option<string?> Overflow = new("--overflow") { Description = "DropOldest or RejectPublish (create only)." };
    private static readonly Option<string?> Expired = new("--expired-messages") { Description = "DeadLetter or Drop (create only)." };

    public static Command Build(TextWriter output)
    {
        var list = new Command("list", "Topics with partitions, messages, size and groups.");
        list.SetAction(Action(async (parse, api, ct) =>
        {
            var topics = await api.GetAsync("api/v1/topics", ct);
            if (WroteJson(parse, output, topics)) return;
            Table.Write(output, ["TOPIC", "PARTITIONS", "MESSAGES", "SIZE", "RF", "RETENTION", "GROUPS"], topics!.AsArray().Select(t => new[]
            {
                Format.Text(t!["name"]), Format.Text(t["settings"]!["partitions"]), Format.Number(t["messages"]), Format.Bytes((long)t["sizeBytes"]!),
                Format.Text(t["settings"]!["replicationFactor"]), RetentionText(t["settings"]!), Format.Text(t["groups"]),
            }));
        }));

        var create = new Command("create", "Create a topic.") { Name, Partitions, Retention, RetentionBytes, MaxMessage, Ttl, Replication, MinIsr, Dedup, Overflow, Expired };
        create.SetAction(Action(async (parse, api, ct) =>
        {
            var body = new JsonObject { ["name"] = parse.GetValue(Name) };
            AddSettings(parse, body, creating: true);
            var topic = await api.SendAsync(HttpMethod.Post, "api/v1/topics", body, ct);
            if (WroteJson(parse, output, topic)) return;
            output.WriteLine($"Created topic {topic!["name"]} with {topic["settings"]!["partitions"]} partition(s).");
        }));

        var describe = new Command("describe", "A topic's settings, and each partition's offsets, size, leader and replicas.") { Name };
        describe.SetAction(Action(async (parse, api, ct) =>
        {
            var topic = await api.GetAsync($"api/v1/topics/{Segment(parse.GetValue(Name)!)}", ct);
            if (WroteJson(parse, output, topic)) return;
            Describe(output, topic!);
        }));

        var alter = new Command("alter", "Change a topic's retention, largest message or default TTL, or add partitions.") { Name, Partitions, Retention, RetentionBytes, MaxMessage, Ttl };
        alter.SetAction(Action(async (parse, api, ct) =>
        {
            var patch = new JsonObject();
            AddSettings(parse, patch, creating: false);
            if (patch.Count == 0) throw new CliException(ExitCodes.Usage, "Nothing to change: give --partitions, --retention, --retention-bytes, --max-message-bytes or --ttl.");
            var topic = await api.SendAsync(HttpMethod.Patch, $"api/v1/topics/{Segment(parse.GetValue(Name)!)}", patch, ct, "application/merge-patch+json");
            if (WroteJson(parse, output, topic)) return;
            output.WriteLine($"Altered topic {topic!["name"]}.");
            Describe(output, topic);
        }));

        var delete = new Command("delete", "Delete a topic with its messages and consumer groups.") { Name };
        delete.SetAction(Action(async (parse, api, ct) =>
        {
            string name = parse.GetValue(Name)!;
            await api.SendAsync(HttpMethod.Delete, $"api/v1/topics/{Segment(name)}", null, ct);
            if (WroteJson(parse, output, new JsonObject { ["deleted"] = name })) return;
            output.WriteLine($"Deleted topic {name}.");
        }));

        return new Command("topics", "List, create, describe, alter and delete topics.") { list, create, describe, alter, delete };
    }

    private static void AddSettings(ParseResult parse, JsonObject body, bool creating)
    {
        if (parse.GetValue(Partitions) is { } partitions) body["partitions"] = partitions;
        if (parse.GetValue(MaxMessage) is { } max) body["maxMessageBytes"] = Values.Size(max, "--max-message-bytes");
        Clearable(parse, body, Retention, "retentionTime", v => Values.Duration(v, "--retention"), creating);
        Clearable(parse, body, RetentionBytes, "retentionBytes", v => Values.Size(v, "--retention-bytes"), creating);
        Clearable(parse, body, Ttl, "defaultTimeToLive", v => Values.Duration(v, "--ttl"), creating);
        if (!creating) return;
        if (parse.GetValue(Replication) is { } rf) body["replicationFactor"] = rf;
        if (parse.GetValue(MinIsr) is { } min) body["minInSyncReplicas"] = min;
        if (parse.GetValue(Dedup) is { } dedup) body["dedupWindow"] = Values.Duration(dedup, "--dedup-window");
        if (parse.GetValue(Overflow) is { } overflow) body["overflow"] = overflow;
        if (parse.GetValue(Expired) is { } expired) body["expiredMessages"] = expired;
    }

    // On alter, 'none' is an explicit null: the merge patch clears the setting.
    private static void Clearable<T>(ParseResult parse, JsonObject body, Option<string?> option, string property, Func<string, T> convert, bool creating)
    {
        if (parse.GetValue(option) is not { } text) return;
        if (text.Equals(Values.None, StringComparison.OrdinalIgnoreCase))
        {
            if (creating) return; // nothing to clear on a new topic
            body[property] = null;
        }
        else
        {
            body[property] = JsonValue.Create(convert(text));
        }
    }

    private static void Describe(TextWriter output, JsonNode topic)
    {
        var s = topic["settings"]!;
        Table.WritePairs(output,
        [
            ("Topic", Format.Text(topic["name"])),
            ("Created", Format.Time(topic["createdAt"])),
            ("Partitions", Format.Text(s["partitions"])),
            ("Replication factor", Format.Text(s["replicationFactor"])),
            ("Min in-sync replicas", Format.Text(s["minInSyncReplicas"])),
            ("Retention", RetentionText(s)),
            ("Max message", Format.Bytes((long)s["maxMessageBytes"]!)),
            ("Default TTL", Format.Duration(s["defaultTimeToLive"])),
            ("Expired messages", Format.Text(s["expiredMessages"])),
            ("Overflow", Format.Text(s["overflow"])),
            ("Dedup window", Format.Duration(s["dedupWindow"])),
            ("Messages", Format.Number(topic["messages"])),
            ("Size", Format.Bytes((long)topic["sizeBytes"]!)),
            ("Groups", Format.Text(topic["groups"])),
        ]);
        output.WriteLine();
        Table.Write(output, ["PARTITION", "START", "END", "MESSAGES", "SIZE", "LEADER", "IN-SYNC REPLICAS"], topic["partitions"]!.AsArray().Select(p => new[]
        {
            Format.Text(p!["partition"]), Format.Number(p["startOffset"]), Format.Number(p["endOffset"]),
            ((long)p["endOffset"]! - (long)p["startOffset"]!).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Format.Bytes((long)p["sizeBytes"]!), Format.Text(p["leader"]), Format.Text(p["inSyncReplicas"]),
        }));
    }

    private static string RetentionText(JsonNode settings)
    {
        string time = Format.Duration(settings["retentionTime"]);
        string bytes = settings["retentionBytes"] is { } b ? Format.Bytes((long)b) : Format.None;
        return time == Format.None && bytes == Format.None ? "forever" : $"{time} / {bytes}";
    }
}
