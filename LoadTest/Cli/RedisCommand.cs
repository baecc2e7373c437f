using System.CommandLine;
using Granary.LoadTest.Reporting;
using Granary.LoadTest.Scenarios;
using Granary.LoadTest.Targets;
using StackExchange.Redis;

namespace Granary.LoadTest.Cli;

/// <summary>
/// <c>redis</c>: the Redis streams peer of W1 (<c>produce</c>) and W2 (<c>consume</c>) from this same load generator,
/// against a <c>redis-server</c> it starts durable (<c>appendonly yes</c>, <c>appendfsync always</c>) or a running one.
/// </summary>
internal static class RedisCommand
{
    /// <summary>Which workloads a run does.</summary>
    internal enum RedisWorkload
    {
        /// <summary>W1 then W2 on the same stream.</summary>
        Both,

        /// <summary>W1: pipelined XADD.</summary>
        Produce,

        /// <summary>W2: XREADGROUP + XACK drain of what is there.</summary>
        Consume,
    }

    private static readonly Option<long> Messages = new("--messages") { Description = "Number of messages.", Required = true };
    private static readonly Option<int> Size = new("--size") { Description = "Payload bytes.", DefaultValueFactory = _ => 100 };
    private static readonly Option<int> Window = new("--window") { Description = "Commands in flight (XADDs in W1, XACKs in W2).", DefaultValueFactory = _ => 1000 };
    private static readonly Option<int> ReadCount = new("--read-count") { Description = "COUNT of each XREADGROUP in W2.", DefaultValueFactory = _ => 1000 };
    private static readonly Option<RedisWorkload> Workload = new("--workload") { Description = "Both (W1 then W2), Produce or Consume.", DefaultValueFactory = _ => RedisWorkload.Both };
    private static readonly Option<string?> Server = new("--redis") { Description = "A running server, host:port (its durability settings are its own). Default: start one." };
    private static readonly Option<string> ServerPath = new("--redis-server") { Description = "The redis-server to start (path or name on the PATH).", DefaultValueFactory = _ => "redis-server" };
    private static readonly Option<string> Stream = new("--stream") { Description = "Stream key.", DefaultValueFactory = _ => "granary-loadtest" };
    private static readonly Option<string> Group = new("--group") { Description = "Consumer group of W2.", DefaultValueFactory = _ => "loadtest" };
    private static readonly Option<string> DataDirectory = new("--data-dir") { Description = "Where a started server keeps its AOF (a temporary folder, removed afterwards).", DefaultValueFactory = _ => "./data" };
    private static readonly Option<long> Warmup = new("--warmup")
    {
        Description = "Warm-up messages, not measured (default 0: none). First N XADDs to the stream {stream}-warmup and their XREADGROUP + XACK "
            + "drain in the same group, on the same connection, then the measured workloads: the Redis side of produce/consume --warmup.",
        DefaultValueFactory = _ => 0,
    };
    private static readonly Option<string?> JsonFile = new("--json") { Description = "Also write the figures as JSON to this file (an array: one report per workload)." };

    public static Command Build(TextWriter output)
    {
        var command = new Command("redis", "The Redis streams peer of W1 and W2: pipelined XADD, then an XREADGROUP + XACK drain, against a redis-server with appendfsync always.")
        {
            Messages, Size, Window, ReadCount, Workload, Server, ServerPath, Stream, Group, DataDirectory, Warmup, JsonFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await RunAsync(parse, output, cancellationToken);
            }
            catch (ArgumentException e)
            {
                output.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, TextWriter output, CancellationToken cancellationToken)
    {
        var settings = ToSettings(parse);
        await using var started = parse.GetValue(Server) is null
            ? await RedisServer.StartAsync(parse.GetValue(ServerPath)!, parse.GetValue(DataDirectory)!, cancellationToken)
            : null;
        string endpoint = started?.Endpoint ?? parse.GetValue(Server)!;
        string description = started is null ? endpoint : $"{endpoint} (started: {string.Join(' ', RedisServer.DurabilitySettings.Select(s => s.Length == 0 ? "\"\"" : s))})";
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint);
        var db = connection.GetDatabase();
        output.WriteLine($"redis against {description}");
        var workload = parse.GetValue(Workload);
        var reports = new List<RunReport>();
        (long Produced, long Drained, long Errors)? warm = settings.Warmup > 0
            ? await RedisScenario.WarmUpAsync(db, settings, description, output, cancellationToken)
            : null;
        if (workload is RedisWorkload.Both or RedisWorkload.Produce)
            reports.Add(WithWarmup(await RedisScenario.ProduceAsync(db, settings, description, output, cancellationToken), warm?.Produced, warm?.Errors));
        if (workload is RedisWorkload.Both or RedisWorkload.Consume)
            reports.Add(WithWarmup(await RedisScenario.ConsumeAsync(db, settings, description, output, cancellationToken), warm?.Drained, warm?.Errors));
        foreach (var report in reports) report.WriteTable(output);
        if (parse.GetValue(JsonFile) is { } json)
            await File.WriteAllTextAsync(json, $"[{string.Join(",\n", reports.Select(r => r.ToJson()))}]", cancellationToken);
        return reports.All(r => r.Errors == 0) && warm is not { Errors: > 0 } ? 0 : 1;
    }

    /// <summary>The measured report with the warm-up's counts beside it (not in its figures).</summary>
    private static RunReport WithWarmup(RunReport report, long? messages, long? errors) => messages is null ? report : report with
    {
        Counts = new Dictionary<string, long> { ["warm-up messages"] = messages.Value, ["warm-up errors"] = errors ?? 0 },
    };

    internal static RedisSettings ToSettings(ParseResult parse)
    {
        var settings = new RedisSettings(parse.GetValue(Messages), parse.GetValue(Size), parse.GetValue(Window), parse.GetValue(ReadCount),
            parse.GetValue(Stream)!, parse.GetValue(Group)!, parse.GetValue(Warmup));
        if (settings.Messages <= 0 || settings.Window <= 0 || settings.ReadCount <= 0)
            throw new ArgumentException("--messages, --window and --read-count must be positive");
        if (settings.Size < 0) throw new ArgumentException("--size must not be negative");
        if (settings.Warmup < 0) throw new ArgumentException("--warmup must not be negative");
        return settings;
    }
}
