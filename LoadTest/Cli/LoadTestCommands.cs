using System.CommandLine;
using Granary.Grains;
using Granary.LoadTest.Reporting;
using Granary.LoadTest.Scenarios;
using Granary.LoadTest.Targets;

namespace Granary.LoadTest.Cli;

/// <summary>
/// The command line: <c>produce</c>, <c>consume</c>, <c>e2e</c>, <c>verify</c>, <c>log-bench</c>, <c>redis</c> and <c>disk-probe</c>. Parsing into
/// settings records is separate from running, so that tests can check it.
/// </summary>
internal static class LoadTestCommands
{
    private static readonly Option<string[]> Gateways = new("--gateway")
    {
        Description = "A gateway of a running cluster, host:port (repeatable). Default 127.0.0.1:30000.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<bool> Embedded = new("--embedded")
    {
        Description = "Start a silo in this process on a temporary data directory (under --data-dir) instead.",
    };

    private static readonly Option<string> DataDirectory = new("--data-dir")
    {
        Description = "Where --embedded, verify and log-bench keep their temporary data (removed afterwards).",
        DefaultValueFactory = _ => "./data",
    };

    private static readonly Option<string?> ApiKeyOption = new("--api-key")
    {
        Description = "Authenticate with this API key (GranaryClientOptions.ApiKey) when the cluster's security is on. With --embedded: "
            + "the embedded silo runs with security on and this as its bootstrap key (at least 32 characters), so a run measures the checks.",
    };

    private static readonly Option<Uri?> SiloMetricsOption = new("--silo-metrics")
    {
        Description = "The silo's Prometheus endpoint (e.g. http://127.0.0.1:30080/metrics; with --api-key sent as a bearer token): "
            + "report the bytes the silo allocated per message during the run's measured phase (produce, consume; read after any --warmup).",
        CustomParser = result => Uri.TryCreate(result.Tokens.Single().Value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri : throw new ArgumentException("--silo-metrics must be an http(s) URL"),
    };

    private static readonly Option<string?> JsonFile = new("--json")
    {
        Description = "Also write the figures as JSON to this file.",
    };

    private static readonly Option<string> TopicOption = new("--topic") { Description = "Topic (created if missing).", Required = true };
    private static readonly Option<long> MessagesOption = new("--messages") { Description = "Number of messages.", Required = true };
    private static readonly Option<int> SizeOption = new("--size") { Description = "Payload bytes.", DefaultValueFactory = _ => 100 };
    private static readonly Option<int> PartitionsOption = new("--partitions") { Description = "Partitions of a topic created by the run.", DefaultValueFactory = _ => 4 };
    private static readonly Option<int> ProducersOption = new("--producers") { Description = "Producers sharing the messages.", DefaultValueFactory = _ => 1 };
    private static readonly Option<double?> RateOption = new("--rate") { Description = "Total messages per second (default: as fast as possible)." };
    private static readonly Option<int> BatchBytesOption = new("--batch-bytes") { Description = "ProducerOptions.BatchBytes.", DefaultValueFactory = _ => 256 * 1024 };
    private static readonly Option<int> LingerOption = new("--linger-ms") { Description = "ProducerOptions.LingerMs.", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> WindowOption = new("--window") { Description = "Sends in flight per producer; 1 awaits each confirm before the next.", DefaultValueFactory = _ => 10_000 };
    private static readonly Option<int> TopicsOption = new("--topics") { Description = "Spread the messages over this many topics ({topic}-0, ...), one producer each.", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> InFlightOption = new("--in-flight") { Description = "ProducerOptions.MaxInFlightBatchesPerPartition (at most 5 with idempotence).", DefaultValueFactory = _ => 1 };
    private static readonly Option<Granary.Client.UnkeyedPartitioning> PartitioningOption = new("--partitioning")
    {
        Description = "ProducerOptions.UnkeyedPartitioning: Sticky (the SDK's default) or RoundRobin.",
        DefaultValueFactory = _ => Granary.Client.UnkeyedPartitioning.Sticky,
    };
    private static readonly Option<bool> NoIdempotenceOption = new("--no-idempotence") { Description = "Turn the idempotent producer off." };
    private static readonly Option<long> ProduceWarmupOption = new("--warmup")
    {
        Description = "Warm-up messages, not measured (default 0: none). First send N messages with the same size, partitions and producer settings "
            + "to the topic {topic}-warmup on the same client and wait for every confirm, then the measured run on --topic: the report, --json and "
            + "--silo-metrics cover the measured messages only. Lets the silo's and this tool's JIT settle first (consume --warmup N drains them).",
        DefaultValueFactory = _ => 0,
    };
    private static readonly Option<long> ConsumeWarmupOption = new("--warmup")
    {
        Description = "Warm-up messages, not measured (default 0: none). First drain N messages of the topic {topic}-warmup (left by produce --warmup N) "
            + "with the same group, consumers and acks, then the measured drain of --topic: the report, --json and --silo-metrics cover it only.",
        DefaultValueFactory = _ => 0,
    };
    private static readonly Option<string> GroupOption = new("--group") { Description = "Consumer group.", Required = true };
    private static readonly Option<int> ConsumersOption = new("--consumers") { Description = "Consumers in the group.", DefaultValueFactory = _ => 1 };
    private static readonly Option<DeliveryMode> ModeOption = new("--mode") { Description = "Shared, Ordered or KeyShared.", DefaultValueFactory = _ => DeliveryMode.Shared };
    private static readonly Option<AckStyle> AckOption = new("--ack")
    {
        Description = "How each message is acked: Forget (_ = AckAsync()), Awaited (await AckAsync()), Confirmed (await AckConfirmedAsync()) or ConfirmedForget (_ = AckConfirmedAsync()).",
        DefaultValueFactory = _ => AckStyle.Forget,
    };
    private static readonly Option<int> PrefetchOption = new("--prefetch") { Description = "ConsumerOptions.MaxPrefetch.", DefaultValueFactory = _ => 2048 };
    private static readonly Option<double> E2eRateOption = new("--rate") { Description = "Messages per second.", Required = true };
    private static readonly Option<double> E2eWarmupOption = new("--warmup-seconds")
    {
        Description = "Warm-up, not measured (default 0: none): first the same run for this many seconds on the topic {topic}-warmup, "
            + "then the measured run on --topic; the report and --json cover the measured run only.",
        DefaultValueFactory = _ => 0,
    };
    private static readonly Option<double> DurationOption = new("--duration") { Description = "Seconds.", Required = true };
    private static readonly Option<double?> KillEveryOption = new("--kill-silo-every") { Description = "Kill the silo with SIGKILL every this many seconds, and restart it." };
    private static readonly Option<double> VerifyRateOption = new("--rate") { Description = "Messages per second (so that kills land while messages flow).", DefaultValueFactory = _ => 2000 };
    private static readonly Option<int> SilosOption = new("--silos") { Description = "Run a cluster of this many silo processes on a throwaway PostgreSQL (topic replicated to 3, acks All); kills pick a random silo.", DefaultValueFactory = _ => 1 };
    private static readonly Option<double> DrainOption = new("--drain-timeout") { Description = "Seconds to wait at the end for confirmed messages to arrive.", DefaultValueFactory = _ => 120 };

    public static RootCommand Build(TextWriter output)
    {
        var produce = new Command("produce", "Send messages with confirms and report throughput and send-to-confirm latency.")
        {
            TopicOption, MessagesOption, SizeOption, PartitionsOption, ProducersOption, RateOption, BatchBytesOption, LingerOption,
            WindowOption, NoIdempotenceOption, TopicsOption, InFlightOption, PartitioningOption, ProduceWarmupOption, Gateways, Embedded, DataDirectory, ApiKeyOption, SiloMetricsOption, JsonFile,
        };
        produce.SetAction((parse, ct) => GuardAsync(output, () => RunAsync(parse, output, ToProduce(parse),
            (client, settings, o, a, c) => ProduceScenario.RunAsync(client, settings, o, c, a), ct)));

        var consume = new Command("consume", "Receive and acknowledge messages in a group and report throughput.")
        {
            TopicOption, GroupOption, MessagesOption, ConsumersOption, ModeOption, PrefetchOption, AckOption, ConsumeWarmupOption, Gateways, Embedded, DataDirectory, ApiKeyOption, SiloMetricsOption, JsonFile,
        };
        consume.SetAction((parse, ct) => GuardAsync(output, () => RunAsync(parse, output, ToConsume(parse),
            (client, settings, o, a, c) => ConsumeScenario.RunAsync(client, settings, o, c, a), ct)));

        var e2e = new Command("e2e", "Produce at a fixed rate while consuming; report end-to-end latency.")
        {
            TopicOption, E2eRateOption, DurationOption, SizeOption, PartitionsOption, E2eWarmupOption, Gateways, Embedded, DataDirectory, ApiKeyOption, JsonFile,
        };
        e2e.SetAction((parse, ct) => GuardAsync(output, () => RunAsync(parse, output, ToEndToEnd(parse),
            (client, settings, o, _, c) => EndToEndScenario.RunAsync(client, settings, o, c), ct)));

        var verify = new Command("verify", "Produce numbered messages while consuming, killing the silo with SIGKILL; exit 1 if a confirmed message was lost.")
        {
            MessagesOption, KillEveryOption, VerifyRateOption, SilosOption, DrainOption, DataDirectory, JsonFile,
        };
        verify.SetAction((parse, ct) => GuardAsync(output, async () =>
        {
            var settings = ToVerify(parse);
            var (report, counts) = settings.Silos > 1 ? await ClusterVerifyScenario.RunAsync(settings, output, ct) : await VerifyScenario.RunAsync(settings, output, ct);
            await WriteAsync(report, parse.GetValue(JsonFile), output, ct);
            output.WriteLine(counts.Passed ? "verify: passed (nothing confirmed was lost)" : "verify: FAILED");
            return counts.Passed ? 0 : 1;
        }));

        return new RootCommand("Granary load-test tool.") { produce, consume, e2e, verify, LogBenchCommand.Build(output), RedisCommand.Build(output), DiskProbeCommand.Build(output) };
    }

    internal static TargetSettings ToTarget(ParseResult parse)
    {
        var settings = new TargetSettings(parse.GetValue(Gateways) ?? [], parse.GetValue(Embedded), parse.GetValue(DataDirectory)!, parse.GetValue(ApiKeyOption))
        {
            SiloMetrics = parse.GetResult(SiloMetricsOption) is null ? null : parse.GetValue(SiloMetricsOption),
        };
        Require(!(settings.Embedded && settings.SiloMetrics is not null),
            "--silo-metrics needs a silo of its own process: an embedded silo shares this tool's heap");
        Require(!(settings.Embedded && settings.ApiKey is { } key && (key.Length < 32 || key.StartsWith("gk_", StringComparison.Ordinal))),
            "--api-key with --embedded is the embedded silo's bootstrap key: at least 32 characters, not a gk_ key (the new silo has no keys)");
        return settings;
    }

    internal static ProduceSettings ToProduce(ParseResult parse)
    {
        var settings = new ProduceSettings(parse.GetValue(TopicOption)!, parse.GetValue(MessagesOption), parse.GetValue(SizeOption),
            parse.GetValue(PartitionsOption), parse.GetValue(ProducersOption), parse.GetValue(RateOption), parse.GetValue(BatchBytesOption),
            parse.GetValue(LingerOption), parse.GetValue(WindowOption), !parse.GetValue(NoIdempotenceOption), parse.GetValue(TopicsOption),
            parse.GetValue(InFlightOption), parse.GetValue(PartitioningOption), parse.GetValue(ProduceWarmupOption));
        Require(settings.Messages > 0, "--messages must be positive");
        Require(settings.Size >= 0, "--size must not be negative");
        Require(settings.Partitions > 0 && settings.Producers > 0 && settings.Window > 0 && settings.Topics > 0 && settings.InFlight > 0,
            "--partitions, --producers, --window, --topics and --in-flight must be positive");
        Require(settings.Rate is null or > 0, "--rate must be positive");
        Require(settings.Warmup >= 0, "--warmup must not be negative");
        return settings;
    }

    internal static ConsumeSettings ToConsume(ParseResult parse)
    {
        var settings = new ConsumeSettings(parse.GetValue(TopicOption)!, parse.GetValue(GroupOption)!, parse.GetValue(MessagesOption),
            parse.GetValue(ConsumersOption), parse.GetValue(ModeOption), parse.GetValue(PrefetchOption), parse.GetValue(AckOption), parse.GetValue(ConsumeWarmupOption));
        Require(settings.Messages > 0 && settings.Consumers > 0 && settings.Prefetch > 0, "--messages, --consumers and --prefetch must be positive");
        Require(settings.Warmup >= 0, "--warmup must not be negative");
        return settings;
    }

    internal static EndToEndSettings ToEndToEnd(ParseResult parse)
    {
        var settings = new EndToEndSettings(parse.GetValue(TopicOption)!, parse.GetValue(E2eRateOption), TimeSpan.FromSeconds(parse.GetValue(DurationOption)),
            parse.GetValue(SizeOption), parse.GetValue(PartitionsOption));
        double warmupSeconds = parse.GetValue(E2eWarmupOption);
        Require(warmupSeconds >= 0 && double.IsFinite(warmupSeconds), "--warmup-seconds must not be negative");
        settings = settings with { Warmup = TimeSpan.FromSeconds(warmupSeconds) };
        Require(settings.Rate > 0 && settings.Duration > TimeSpan.Zero, "--rate and --duration must be positive");
        Require(settings.Size >= EndToEndScenario.MinimumSize, $"--size must be at least {EndToEndScenario.MinimumSize} (the send time travels in the payload)");
        return settings;
    }

    internal static VerifySettings ToVerify(ParseResult parse)
    {
        double? killEvery = parse.GetValue(KillEveryOption);
        var settings = new VerifySettings(parse.GetValue(MessagesOption), killEvery is { } s ? TimeSpan.FromSeconds(s) : null,
            parse.GetValue(DataDirectory)!, TimeSpan.FromSeconds(parse.GetValue(DrainOption)), parse.GetValue(VerifyRateOption), parse.GetValue(SilosOption));
        Require(settings.Silos is >= 1 and <= 9, "--silos must be between 1 and 9");
        Require(settings.Messages > 0 && settings.Rate > 0, "--messages and --rate must be positive");
        Require(killEvery is null or > 0, "--kill-silo-every must be positive");
        return settings;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }

    /// <summary>Exit codes: 0 done, 1 the run had errors (or verify lost messages), 2 bad arguments, 3 the broker refused.</summary>
    private static async Task<int> GuardAsync(TextWriter output, Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (ArgumentException e)
        {
            output.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (GranaryException e)
        {
            output.WriteLine($"error: {e.Code}: {e.Message}");
            return 3;
        }
    }

    private static async Task<int> RunAsync<TSettings>(ParseResult parse, TextWriter output, TSettings settings,
        Func<Granary.Client.GranaryClient, TSettings, TextWriter, SiloAllocationProbe?, CancellationToken, Task<RunReport>> scenario, CancellationToken cancellationToken)
    {
        var targetSettings = ToTarget(parse);
        await using var target = await BrokerTarget.OpenAsync(targetSettings, cancellationToken);
        output.WriteLine($"{parse.CommandResult.Command.Name} against {target.Description}");
        using var allocation = targetSettings.SiloMetrics is { } metrics ? new SiloAllocationProbe(metrics, targetSettings.ApiKey) : null;
        var report = await scenario(target.Client, settings, output, allocation, cancellationToken);
        if (allocation is not null && report.SiloAllocation is null)
            output.WriteLine($"note: {allocation.MetricsUrl} has no {SiloAllocationProbe.SeriesName} series (a silo before it exported System.Runtime?): no allocation figure");
        await WriteAsync(report, parse.GetValue(JsonFile), output, cancellationToken);
        return report.Errors == 0 && report.Counts.GetValueOrDefault("warm-up errors") == 0 ? 0 : 1;
    }

    private static async Task WriteAsync(RunReport report, string? jsonFile, TextWriter output, CancellationToken cancellationToken)
    {
        report.WriteTable(output);
        if (jsonFile is not null) await File.WriteAllTextAsync(jsonFile, report.ToJson(), cancellationToken);
    }
}
