using System.CommandLine;
using System.Text.Json.Nodes;
using Granary.Cli.Api;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary acls list|grant|deny|remove</c>: permission rules (needs Admin on the cluster).</summary>
internal static class AclCommands
{
    private static readonly string[] Operations = ["produce", "consume", "describe", "create", "alter", "delete", "admin", "all"];

    private static readonly Option<string> Principal = new("--principal") { Description = "The principal the rule is about, or '*' for every authenticated one.", Required = true };
    private static readonly Option<string?> Topic = new("--topic") { Description = "A topic's name ('*' for every topic; with --prefix, a name prefix)." };
    private static readonly Option<string?> Group = new("--group") { Description = "A group, as TOPIC/GROUP ('*' for every group; with --prefix, a prefix such as orders/)." };
    private static readonly Option<bool> Cluster = new("--cluster") { Description = "The cluster: listing it, damage, metrics (describe) and keys, rules, audit (admin)." };
    private static readonly Option<bool> Prefix = new("--prefix") { Description = "The name given is a prefix: 'orders.' matches orders.eu and orders.us." };
    private static readonly Option<string> Operation = new("--operation")
    {
        Description = $"{string.Join(", ", Operations)}.",
        Required = true,
    };

    private static readonly Argument<string> Id = new("id") { Description = "The rule's id, as 'acls list' shows it." };

    public static Command Build(TextWriter output)
    {
        var list = new Command("list", "Every permission rule.");
        list.SetAction(Action(async (parse, api, ct) =>
        {
            var rules = await api.GetAsync("api/v1/acls", ct);
            if (WroteJson(parse, output, rules)) return;
            Table.Write(output, ["ID", "EFFECT", "PRINCIPAL", "OPERATION", "RESOURCE", "NAME", "PATTERN", "CREATED BY"], rules!.AsArray().Select(r => new[]
            {
                Format.Text(r!["id"]), Lower(r["effect"]), Format.Text(r["principal"]), Lower(r["operation"]), Lower(r["resourceType"]),
                Format.Text(r["name"]), Lower(r["patternType"]), Format.Text(r["createdBy"]),
            }));
        }));

        var remove = new Command("remove", "Remove a rule.") { Id };
        remove.SetAction(Action(async (parse, api, ct) =>
        {
            string id = parse.GetValue(Id)!;
            await api.SendAsync(HttpMethod.Delete, $"api/v1/acls/{Segment(id)}", null, ct);
            if (WroteJson(parse, output, new JsonObject { ["removed"] = id })) return;
            output.WriteLine($"Removed rule {id}.");
        }));

        return new Command("acls", "List, grant, deny and remove permission rules. A deny wins over any allow; with no rule that allows, the answer is no.")
        {
            list, Rule("grant", "Allow", "Allow a principal an operation on a topic, group or the cluster.", output),
            Rule("deny", "Deny", "Deny a principal an operation on a topic, group or the cluster, whatever allows it.", output), remove,
        };
    }

    private static Command Rule(string name, string effect, string description, TextWriter output)
    {
        var command = new Command(name, description) { Principal, Topic, Group, Cluster, Prefix, Operation };
        command.SetAction(Action(async (parse, api, ct) =>
        {
            var (resourceType, resource) = Resource(parse);
            string operation = parse.GetValue(Operation)!.ToLowerInvariant();
            if (!Operations.Contains(operation))
                throw new CliException(ExitCodes.Usage, $"--operation: '{parse.GetValue(Operation)}' is not one of {string.Join(", ", Operations)}.");
            var body = new JsonObject
            {
                ["principal"] = parse.GetValue(Principal),
                ["resourceType"] = resourceType,
                ["name"] = resource,
                ["patternType"] = parse.GetValue(Prefix) ? "Prefix" : "Exact",
                ["operation"] = operation,
                ["effect"] = effect,
            };
            var rule = await api.SendAsync(HttpMethod.Post, "api/v1/acls", body, ct);
            if (WroteJson(parse, output, rule)) return;
            output.WriteLine($"Added rule {Format.Text(rule!["id"])}: {Lower(rule["effect"])} {Format.Text(rule["principal"])} {Lower(rule["operation"])} on " +
                $"{Lower(rule["resourceType"])} {(Lower(rule["patternType"]) == "prefix" ? "prefix " : "")}{Format.Text(rule["name"])}.");
        }));
        return command;
    }

    /// <summary>The one resource the command line names: exactly one of --topic, --group, --cluster.</summary>
    private static (string Type, string Name) Resource(ParseResult parse)
    {
        string? topic = parse.GetValue(Topic), group = parse.GetValue(Group);
        bool cluster = parse.GetValue(Cluster);
        if ((topic is null ? 0 : 1) + (group is null ? 0 : 1) + (cluster ? 1 : 0) != 1)
            throw new CliException(ExitCodes.Usage, "Name one resource: --topic NAME, --group TOPIC/GROUP or --cluster.");
        if (cluster && parse.GetValue(Prefix)) throw new CliException(ExitCodes.Usage, "--prefix goes with --topic or --group, not --cluster.");
        return topic is not null ? ("Topic", topic) : group is not null ? ("Group", group) : ("Cluster", "*");
    }

    private static string Lower(JsonNode? node) => Format.Text(node).ToLowerInvariant();
}
