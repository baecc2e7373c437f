using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary dlq list|redrive</c>: a group's dead letters.</summary>
internal static class DeadLetterCommands
{
    private const int PreviewChars = 40;
    private static readonly Option<long?> From = new("--from") { Description = "First dead-letter offset (default 0)." };
    private static readonly Option<long?> Until = new("--to") { Description = "redrive: end of the offset range, exclusive (default: all)." };
    private static readonly Option<int?> Limit = new("--limit") { Description = "list: at most this many (1-1000, default 100)." };

    public static Command Build(TextWriter output)
    {
        var list = new Command("list", "A group's dead letters: why, when, where from, and the start of the payload.") { GroupCommands.Topic, GroupCommands.Group, From, Limit };
        list.SetAction(Action(async (parse, api, ct) =>
        {
            string query = string.Create(CultureInfo.InvariantCulture, $"?from={parse.GetValue(From) ?? 0}&limit={parse.GetValue(Limit) ?? 100}");
            var letters = await api.GetAsync(GroupCommands.GroupPath(parse) + "/dead-letters" + query, ct);
            if (WroteJson(parse, output, letters)) return;
            Table.Write(output, ["PARTITION", "OFFSET", "REASON", "ATTEMPTS", "DEAD-LETTERED", "SOURCE", "KEY", "PAYLOAD"], letters!.AsArray().Select(l => new[]
            {
                Format.Text(l!["partition"]), Format.Number(l["offset"]), Format.Text(l["reason"]), Format.Text(l["attempts"]), Format.Time(l["deadLetteredAt"]),
                $"{Format.Text(l["sourcePartition"])}@{Format.Number(l["sourceOffset"])}", Format.Text(l["key"]), Preview(l),
            }));
        }));

        var redrive = new Command("redrive", "Publish a group's dead letters again to their source partitions, for that group only.") { GroupCommands.Topic, GroupCommands.Group, From, Until };
        redrive.SetAction(Action(async (parse, api, ct) =>
        {
            var body = new JsonObject();
            if (parse.GetValue(From) is { } from) body["fromOffset"] = from;
            if (parse.GetValue(Until) is { } to) body["toOffset"] = to;
            var result = await api.SendAsync(HttpMethod.Post, GroupCommands.GroupPath(parse) + "/dead-letters/redrive", body, ct);
            if (WroteJson(parse, output, result)) return;
            output.WriteLine($"Redrove {Format.Number(result!["redriven"])} dead letter(s) to {parse.GetValue(GroupCommands.Topic)} for group {parse.GetValue(GroupCommands.Group)}.");
        }));

        return new Command("dlq", "List and redrive a consumer group's dead letters.") { list, redrive };
    }

    private static string Preview(JsonNode letter)
    {
        string payload = Format.Text(letter["payload"]);
        if (Format.Text(letter["payloadEncoding"]) == "base64") payload = "base64:" + payload;
        payload = payload.ReplaceLineEndings(" ");
        return payload.Length > PreviewChars ? payload[..PreviewChars] + "…" : payload;
    }
}
