using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Granary.Client;
using Granary.LoadTest.Reporting;

namespace Granary.LoadTest.Scenarios;

/// <summary>Settings of <c>e2e</c>.</summary>
internal sealed record EndToEndSettings(string Topic, double Rate, TimeSpan Duration, int Size, int Partitions, TimeSpan Warmup = default)
{
    /// <summary>The unmeasured phase of <c>--warmup-seconds S</c>: these same settings for S seconds on <c>{topic}-warmup</c>.</summary>
    public EndToEndSettings WarmupPhase => this with { Topic = Topics.WarmupName(Topic), Duration = Warmup, Warmup = TimeSpan.Zero };

    public IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["topic"] = Topic,
        ["rate"] = Rate.ToString(CultureInfo.InvariantCulture),
        ["duration"] = Duration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        ["size"] = Size.ToString(CultureInfo.InvariantCulture),
        ["partitions"] = Partitions.ToString(CultureInfo.InvariantCulture),
        ["warmup-seconds"] = Warmup.TotalSeconds.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// <c>e2e</c>: one producer sends at a fixed rate for a duration while one consumer receives and acknowledges. Each
/// payload starts with its scheduled send time, so latency runs from when the message was due to when it was
/// received (a stalled sender shows up as latency instead of hiding: no coordinated omission).
/// With <c>--warmup-seconds S</c> the same client first runs the same for S seconds on <c>{topic}-warmup</c>, unmeasured.
/// </summary>
internal static class EndToEndScenario
{
    public const int MinimumSize = 8;

    public static async Task<RunReport> RunAsync(GranaryClient client, EndToEndSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>();
        if (settings.Warmup > TimeSpan.Zero)
        {
            var warmup = settings.WarmupPhase;
            var warm = await RunPhaseAsync(client, warmup, "e2e warm-up", output, cancellationToken);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up (not measured): {warm.Messages:N0} warm-up messages sent and received first on {warmup.Topic} in {warm.Seconds:0.00} s, {warm.Errors} errors"));
            counts["warm-up messages"] = warm.Messages;
            counts["warm-up errors"] = warm.Errors;
        }
        return await RunPhaseAsync(client, settings, "e2e", output, cancellationToken) with { Counts = counts };
    }

    /// <summary>One phase: the producer sends at the rate for the duration while a new group on the topic receives.</summary>
    private static async Task<RunReport> RunPhaseAsync(GranaryClient client, EndToEndSettings settings, string label, TextWriter output, CancellationToken cancellationToken)
    {
        await Topics.EnsureAsync(client, settings.Topic, settings.Partitions);
        string group = $"e2e-{Guid.NewGuid():N}";
        long total = (long)(settings.Rate * settings.Duration.TotalSeconds);
        var latency = new LatencyRecorder();
        long received = 0, errors = 0;
        var allReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var consumer = client.CreateConsumer(settings.Topic, group, new ConsumerOptions { StartPosition = StartPosition.Latest });
        await consumer.StartAsync(cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Run(async () =>
        {
            await foreach (var message in consumer.ReadAllAsync(stop.Token))
            {
                long due = BinaryPrimitives.ReadInt64LittleEndian(message.Payload.Span);
                latency.Record(Stopwatch.GetTimestamp() - due);
                _ = message.AckAsync();
                if (Interlocked.Increment(ref received) == total) allReceived.TrySetResult();
            }
        }, stop.Token);

        await using var producer = client.CreateProducer(settings.Topic);
        var started = Stopwatch.GetTimestamp();
        await using (new ProgressDisplay(label, () => Volatile.Read(ref received), () => Volatile.Read(ref errors), output))
        {
            var pacer = Pacer.Start(settings.Rate);
            for (long i = 0; i < total; i++)
            {
                await pacer.WaitTurnAsync(i, cancellationToken);
                var payload = new byte[settings.Size];
                BinaryPrimitives.WriteInt64LittleEndian(payload, pacer.DueAt(i));
                _ = producer.SendAsync(new OutgoingMessage(payload), CancellationToken.None).ContinueWith(
                    task => { if (!task.IsCompletedSuccessfully) Interlocked.Increment(ref errors); },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            await producer.FlushAsync(cancellationToken);
            // Everything confirmed is delivered soon after; a generous bound keeps a broken run from hanging.
            await Task.WhenAny(allReceived.Task, reading, Task.Delay(TimeSpan.FromSeconds(60), cancellationToken));
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        await stop.CancelAsync();
        await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        long lost = total - Volatile.Read(ref received) - Volatile.Read(ref errors);
        return RunReport.From("e2e", received, received * settings.Size, elapsed, latency, errors + Math.Max(0, lost), settings.ToDictionary());
    }
}
