using System.CommandLine;
using System.Text.Json.Nodes;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary keys create|list|revoke</c>: API keys of principals (needs Admin on the cluster).</summary>
internal static class KeyCommands
{
    private static readonly Option<string> Principal = new("--principal") { Description = "Who the key authenticates as.", Required = true };
    private static readonly Option<string?> Description = new("--description") { Description = "What the key is for, shown in 'keys list'." };
    private static readonly Argument<string> Id = new("id") { Description = "The key's id, as 'keys list' shows it." };

    public static Command Build(TextWriter output, TextWriter error)
    {
        var create = new Command("create", "Make an API key for a principal; it is printed this once.") { Principal, Description };
        create.SetAction(Action(async (parse, api, ct) =>
        {
            var body = new JsonObject { ["principal"] = parse.GetValue(Principal), ["description"] = parse.GetValue(Description) };
            var key = await api.SendAsync(HttpMethod.Post, "api/v1/keys", body, ct);
            if (WroteJson(parse, output, key)) return;
            output.WriteLine(Format.Text(key!["key"]));
            // On stderr, so that `granary keys create ... > file` keeps the key alone in the file.
            error.WriteLine($"Created API key {Format.Text(key["id"])} for principal {Format.Text(key["principal"])}. " +
                "Store it now: this is the only time it is shown (the silo keeps a hash). Use it with --api-key or GRANARY_API_KEY.");
        }));

        var list = new Command("list", "API keys: id, principal, description, who made them, revoked or not. Never the keys themselves.");
        list.SetAction(Action(async (parse, api, ct) =>
        {
            var keys = await api.GetAsync("api/v1/keys", ct);
            if (WroteJson(parse, output, keys)) return;
            Table.Write(output, ["ID", "PRINCIPAL", "CREATED", "CREATED BY", "REVOKED", "DESCRIPTION"], keys!.AsArray().Select(k => new[]
            {
                Format.Text(k!["id"]), Format.Text(k["principal"]), Format.Time(k["created"]), Format.Text(k["createdBy"]), Format.Time(k["revoked"]),
                Format.Text(k["description"]),
            }));
        }));

        var revoke = new Command("revoke", "Revoke an API key: within seconds it authenticates no one.") { Id };
        revoke.SetAction(Action(async (parse, api, ct) =>
        {
            string id = parse.GetValue(Id)!;
            await api.SendAsync(HttpMethod.Delete, $"api/v1/keys/{Segment(id)}", null, ct);
            if (WroteJson(parse, output, new JsonObject { ["revoked"] = id })) return;
            output.WriteLine($"Revoked API key {id}.");
        }));

        return new Command("keys", "Create, list and revoke API keys.") { create, list, revoke };
    }
}
