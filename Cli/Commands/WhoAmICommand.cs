using System.CommandLine;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary whoami</c>: the principal the silo sees behind the credential given, and what it may do to the cluster.</summary>
internal static class WhoAmICommand
{
    public static Command Build(TextWriter output)
    {
        var whoami = new Command("whoami", "Who the silo takes you for (from --api-key, GRANARY_API_KEY or --cert), and what you may do to the cluster.");
        whoami.SetAction(Action(async (parse, api, ct) =>
        {
            var me = await api.GetAsync("api/v1/whoami", ct);
            if (WroteJson(parse, output, me)) return;
            bool enabled = me!["securityEnabled"]?.GetValue<bool>() == true;
            Table.WritePairs(output,
            [
                ("Principal", Format.Text(me["principal"])),
                ("Authenticated by", Format.Text(me["kind"])),
                ("Security", enabled ? "on" : "off (anyone may do anything)"),
                ("Superuser", YesNo(me["superuser"])),
                ("Describe cluster", YesNo(me["canDescribeCluster"])),
                ("Administer", YesNo(me["canAdmin"])),
                ("Create topics", YesNo(me["canCreateTopics"])),
            ]);
        }));
        return whoami;
    }

    private static string YesNo(System.Text.Json.Nodes.JsonNode? node) => node?.GetValue<bool>() == true ? "yes" : "no";
}
