using System.Diagnostics;
using System.Globalization;
using Granary.Client;
using Granary.LoadTest.Reporting;

namespace Granary.LoadTest.Scenarios;

/// <summary>Settings of <c>produce</c>.</summary>
internal sealed record ProduceSettings(string Topic, long Messages, int Size, int Partitions, int Producers, double? Rate,
    int BatchBytes, int LingerMs, int Window, bool Idempotence, int Topics = 1, int InFlight = 1,
    UnkeyedPartitioning Partitioning = UnkeyedPartitioning.Sticky)
{
    /// <summary>The topics of the run: the topic itself, or <c>{topic}-0</c> to <c>{topic}-(K-1)</c> with <c>--topics K</c>.</summary>
    public IReadOnlyList<string> TopicNames => Topics == 1 ? [Topic] : [.. Enumerable.Range(0, Topics).Select(i => $"{Topic}-{i}")];

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
    };
}

/// <summary>
/// <c>produce</c>: K producers send N messages of a fixed size with confirms, each keeping up to <c>--window</c> sends
/// in flight (1: await each confirm before the next), optionally paced to a total rate. Latency is send to confirm.
/// With <c>--topics T</c> the messages are spread over T topics instead, one producer per topic, the window shared
/// out between them (many small topics against one wide one).
/// </summary>
internal static class ProduceScenario
{
    public static async Task<RunReport> RunAsync(GranaryClient client, ProduceSettings settings, TextWriter output, CancellationToken cancellationToken,
        SiloAllocationProbe? allocation = null)
    {
        var topics = settings.TopicNames;
        // Created a few at a time: each creation writes the topic's state and the registry durably.
        foreach (var chunk in topics.Chunk(32)) await Task.WhenAll(chunk.Select(t => Topics.EnsureAsync(client, t, settings.Partitions)));
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
        if (allocation is not null) await allocation.StartAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        await using (new ProgressDisplay("produce", () => Volatile.Read(ref confirmed), () => Volatile.Read(ref errors), output))
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
        var allocated = allocation is null ? null : await allocation.StopAsync(confirmed, cancellationToken);
        return RunReport.From("produce", confirmed, confirmed * settings.Size, elapsed, latency, errors, settings.ToDictionary()) with { SiloAllocation = allocated };
    }
}
