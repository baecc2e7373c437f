using System.Diagnostics;
using System.Globalization;
using Granary.Client;
using Granary.LoadTest.Reporting;

namespace Granary.LoadTest.Scenarios;

/// <summary>Settings of <c>produce</c>.</summary>
internal sealed record ProduceSettings(string Topic, long Messages, int Size, int Partitions, int Producers, double? Rate,
    int BatchBytes, int LingerMs, int Window, bool Idempotence)
{
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
    };
}

/// <summary>
/// <c>produce</c>: K producers send N messages of a fixed size with confirms, each keeping up to <c>--window</c> sends
/// in flight (1: await each confirm before the next), optionally paced to a total rate. Latency is send to confirm.
/// </summary>
internal static class ProduceScenario
{
    public static async Task<RunReport> RunAsync(GranaryClient client, ProduceSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        await Topics.EnsureAsync(client, settings.Topic, settings.Partitions);
        var options = new ProducerOptions
        {
            BatchBytes = settings.BatchBytes,
            LingerMs = settings.LingerMs,
            EnableIdempotence = settings.Idempotence,
        };
        var latency = new LatencyRecorder();
        long confirmed = 0, errors = 0;
        byte[] payload = new byte[settings.Size];
        Random.Shared.NextBytes(payload);
        var started = Stopwatch.GetTimestamp();
        await using (new ProgressDisplay("produce", () => Volatile.Read(ref confirmed), () => Volatile.Read(ref errors), output))
        {
            await Task.WhenAll(Enumerable.Range(0, settings.Producers).Select(async p =>
            {
                long count = settings.Messages / settings.Producers + (p < settings.Messages % settings.Producers ? 1 : 0);
                double? rate = settings.Rate / settings.Producers;
                await using var producer = client.CreateProducer(settings.Topic, options);
                using var window = new SemaphoreSlim(settings.Window);
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
                for (int w = 0; w < settings.Window; w++) await window.WaitAsync(cancellationToken); // every callback ran
            }));
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        return RunReport.From("produce", confirmed, confirmed * settings.Size, elapsed, latency, errors, settings.ToDictionary());
    }
}
