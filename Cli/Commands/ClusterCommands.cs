using System.CommandLine;
using System.Globalization;
using Granary.Cli.Output;
using static Granary.Cli.GranaryCli;

namespace Granary.Cli.Commands;

/// <summary><c>granary cluster status</c>.</summary>
internal static class ClusterCommands
{
    public static Command Build(TextWriter output)
    {
        var status = new Command("status", "The cluster's silos, their load and the partitions each leads.");
        status.SetAction(Action(async (parse, api, ct) =>
        {
            var cluster = await api.GetAsync("api/v1/cluster", ct);
            if (WroteJson(parse, output, cluster)) return;
            var silos = cluster!["silos"]!.AsArray();
            Table.Write(output, ["SILO", "ADDRESS", "STATUS", "GATEWAY", "STARTED", "CPU", "MEMORY", "ACTIVATIONS", "CLIENTS", "PARTITIONS LED"], silos.Select(s => new[]
            {
                Format.Text(s!["name"]), Format.Text(s["address"]), Format.Text(s["status"]) + (s["isOverloaded"]?.GetValue<bool>() == true ? " (overloaded)" : ""),
                Format.Text(s["gatewayPort"]), Format.Time(s["startedAt"]),
                s["cpuPercent"] is { } cpu ? string.Create(CultureInfo.InvariantCulture, $"{cpu.GetValue<double>():0}%") : Format.None,
                s["managedMemoryBytes"] is { } memory ? Format.Bytes(memory.GetValue<long>()) : Format.None,
                Format.Text(s["activations"]), Format.Text(s["clients"]), Format.Text(s["partitionsLed"]),
            }));
            output.WriteLine($"{silos.Count} silo(s), {Format.Text(cluster["topics"])} topic(s), {Format.Text(cluster["partitions"])} partition(s).");
        }));
        return new Command("cluster", "How the cluster stands.") { status };
    }
}
