using System.Diagnostics;
using System.Globalization;
using Granary.Client;
using Granary.LoadTest.Reporting;

namespace Granary.LoadTest.Scenarios;

/// <summary>Settings of <c>produce</c>.</summary>
internal sealed record ProduceSettings(string Topic, long Messages, int Size, int Partitions, int Producers, double? Rate,
    int BatchBytes, int LingerMs, int Window, bool Idempotence, int Topics = 1, int InFlight = 1,
    UnkeyedPartitioning Partitioning = UnkeyedPartitioning.Sticky, long Warmup = 0)
{
    /// <summary>The topics of the run: the topic itself, or <c>{topic}-0</c> to <c>{topic}-(K-1)</c> with <c>--topics K</c>.</summary>
    public IReadOnlyList<string> TopicNames => Topics == 1 ? [Topic] : [.. Enumerable.Range(0, Topics).Select(i => $"{Topic}-{i}")];

    /// <summary>
    /// The unmeasured phase of <c>--warmup N</c>: these same settings with N messages to <c>{topic}-warmup</c> (with
    /// <c>--topics K</c>: <c>{topic}-warmup-0</c> to <c>{topic}-warmup-(K-1)</c>).
    /// </summary>
    public ProduceSettings WarmupPhase => this with { Topic = Scenarios.Topics.WarmupName(Topic), Messages = Warmup, Warmup = 0 };

    public IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["topic"] = Topic,
        ["messages"] = Messages.ToString(CultureInfo.InvariantCulture),
        ["size"] = Size.ToString(CultureInfo.InvariantCulture),
        ["partitions"] = Partitions.ToString(CultureInfo.InvariantCulture),
        ["producers"] = Producers.ToString(CultureInfo.InvariantCulture),
        ["rate"] = Rate?.ToString(CultureInfo.InvariantCulture) ?? "unlimited",
        ["batch-bytes"] = BatchBytes.ToString(CultureInfo.InvariantCulture),
        ["linger-ms"] = LingerMs.ToString(CultureInfo.InvariantCulture),
        ["window"] = Window.ToString(CultureInfo.InvariantCulture),
        ["idempotence"] = Idempotence ? "on" : "off",
        ["topics"] = Topics.ToString(CultureInfo.InvariantCulture),
        ["in-flight"] = InFlight.ToString(CultureInfo.InvariantCulture),
        ["partitioning"] = Partitioning.ToString(),
        ["warmup"] = Warmup.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// <c>produce</c>: K producers send N messages of a fixed size with confirms, each keeping up to <c>--window</c> sends
/// in flight (1: await each confirm before the next), optionally paced to a total rate. Latency is send to confirm.
/// With <c>--topics T</c> the messages are spread over T topics instead, one producer per topic, the window shared
/// out between them (many small topics against one wide one).
/// With <c>--warmup N</c> the same client first sends N messages with the same settings to <c>{topic}-warmup</c> and
/// waits for every confirm; only what follows is measured (throughput, latency, the silo's allocations), so that the
/// tiered JIT of the silo and of this tool is done before the clock starts.
/// </summary>
internal static class ProduceScenario
{
    public static async Task<RunReport> RunAsync(GranaryClient client, ProduceSettings settings, TextWriter output, CancellationToken cancellationToken,
        SiloAllocationProbe? allocation = null)
    {
        var warmup = settings.WarmupPhase;
        // Created a few at a time: each creation writes the topic's state and the registry durably.
        var topics = settings.Warmup > 0 ? [.. warmup.TopicNames, .. settings.TopicNames] : settings.TopicNames;
        foreach (var chunk in topics.Chunk(32)) await Task.WhenAll(chunk.Select(t => Topics.EnsureAsync(client, t, settings.Partitions)));
        var counts = new Dictionary<string, long>();
        if (settings.Warmup > 0)
        {
            var warm = await SendAsync(client, warmup, "produce warm-up", output, cancellationToken);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up (not measured): {warm.Messages:N0} of {settings.Warmup:N0} warm-up messages sent first to {string.Join(", ", warmup.TopicNames)} and confirmed in {warm.Seconds:0.00} s, {warm.Errors} errors"));
            counts["warm-up messages"] = warm.Messages;
            counts["warm-up errors"] = warm.Errors;
        }
        // After the warm-up: the silo's allocations cover the measured phase only.
        if (allocation is not null) await allocation.StartAsync(cancellationToken);
        var report = await SendAsync(client, settings, "produce", output, cancellationToken);
        var allocated = allocation is null ? null : await allocation.StopAsync(report.Messages, cancellationToken);
        return report with { SiloAllocation = allocated, Counts = counts };
    }

    /// <summary>One phase: sends <c>settings.Messages</c> to the settings' topics (which exist) and waits for every confirm.</summary>
    private static async Task<RunReport> SendAsync(GranaryClient client, ProduceSettings settings, string label, TextWriter output, CancellationToken cancellationToken)
    {
        var topics = settings.TopicNames;
        int producers = topics.Count > 1 ? topics.Count : settings.Producers;
        int perProducerWindow = topics.Count > 1 ? Math.Max(1, settings.Window / topics.Count) : settings.Window;
        var options = new ProducerOptions
        {
            BatchBytes = settings.BatchBytes,
            LingerMs = settings.LingerMs,
            EnableIdempotence = settings.Idempotence,
            MaxInFlightBatchesPerPartition = settings.InFlight,
            UnkeyedPartitioning = settings.Partitioning,
        };
        var latency = new LatencyRecorder();
        long confirmed = 0, errors = 0;
        byte[] payload = new byte[settings.Size];
        Random.Shared.NextBytes(payload);
        var started = Stopwatch.GetTimestamp();
        await using (new ProgressDisplay(label, () => Volatile.Read(ref confirmed), () => Volatile.Read(ref errors), output))
        {
            await Task.WhenAll(Enumerable.Range(0, producers).Select(async p =>
            {
                long count = settings.Messages / producers + (p < settings.Messages % producers ? 1 : 0);
                double? rate = settings.Rate / producers;
                await using var producer = client.CreateProducer(topics[topics.Count > 1 ? p : 0], options);
                using var window = new SemaphoreSlim(perProducerWindow);
                var pacer = Pacer.Start(rate);
                for (long i = 0; i < count; i++)
                {
                    await pacer.WaitTurnAsync(i, cancellationToken);
                    await window.WaitAsync(cancellationToken);
                    long sentAt = Stopwatch.GetTimestamp();
                    _ = producer.SendAsync(new OutgoingMessage(payload), CancellationToken.None).ContinueWith(task =>
                    {
                        if (task.IsCompletedSuccessfully)
                        {
                            latency.Record(Stopwatch.GetTimestamp() - sentAt);
                            Interlocked.Increment(ref confirmed);
                        }
                        else
                        {
                            Interlocked.Increment(ref errors);
                        }
                        window.Release();
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                await producer.FlushAsync(cancellationToken);
                for (int w = 0; w < perProducerWindow; w++) await window.WaitAsync(cancellationToken); // every callback ran
            }));
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        return RunReport.From("produce", confirmed, confirmed * settings.Size, elapsed, latency, errors, settings.ToDictionary());
    }
}
