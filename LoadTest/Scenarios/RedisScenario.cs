using System.Diagnostics;
using System.Globalization;
using Granary.LoadTest.Reporting;
using StackExchange.Redis;

namespace Granary.LoadTest.Scenarios;

/// <summary>Settings of <c>redis</c>.</summary>
internal sealed record RedisSettings(long Messages, int Size, int Window, int ReadCount, string Stream, string Group, long Warmup = 0)
{
    /// <summary>The unmeasured phase of <c>--warmup N</c>: these same settings with N messages on the stream <c>{stream}-warmup</c>.</summary>
    public RedisSettings WarmupPhase => this with { Stream = Topics.WarmupName(Stream), Messages = Warmup, Warmup = 0 };

    public IReadOnlyDictionary<string, string> ToDictionary(string server) => new Dictionary<string, string>
    {
        ["server"] = server,
        ["stream"] = Stream,
        ["messages"] = Messages.ToString(CultureInfo.InvariantCulture),
        ["size"] = Size.ToString(CultureInfo.InvariantCulture),
        ["window"] = Window.ToString(CultureInfo.InvariantCulture),
        ["read-count"] = ReadCount.ToString(CultureInfo.InvariantCulture),
        ["warmup"] = Warmup.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// The Redis streams peer of <c>produce</c> and <c>consume</c>, from the same load generator: W1 sends N
/// <c>XADD</c>s of one field holding the payload, pipelined on one connection with up to <c>--window</c> in flight
/// (latency: send to reply); W2 drains them in a consumer group with <c>XREADGROUP ... COUNT --read-count</c> and one
/// <c>XACK</c> per message, the acks pipelined (not awaited one by one) and the run ending when N acks are answered
/// (latency: the entry id's timestamp to receipt, so on a backlog the messages' age).
/// </summary>
internal static class RedisScenario
{
    private static readonly RedisValue Field = "p";

    /// <summary>
    /// <c>--warmup N</c>: N pipelined <c>XADD</c>s to <c>{stream}-warmup</c>, then their <c>XREADGROUP</c> + <c>XACK</c>
    /// drain in the same group, on the same connection as the measured workloads that follow, so that this tool's
    /// client code is as warm for Redis as it is for Granary. Returns the warm-up's (messages sent and drained, errors).
    /// </summary>
    public static async Task<(long Produced, long Drained, long Errors)> WarmUpAsync(IDatabase db, RedisSettings settings, string server, TextWriter output,
        CancellationToken cancellationToken)
    {
        var warmup = settings.WarmupPhase;
        var produced = await ProduceAsync(db, warmup, server, output, cancellationToken, "redis produce warm-up");
        // Drains what was added: waiting for XADDs that failed would never end.
        var drained = produced.Messages == 0 ? null
            : await ConsumeAsync(db, warmup with { Messages = produced.Messages }, server, output, cancellationToken, "redis consume warm-up");
        long drainedMessages = drained?.Messages ?? 0, errors = produced.Errors + (drained?.Errors ?? 0);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warm-up (not measured): {produced.Messages:N0} of {warmup.Messages:N0} warm-up messages added first to stream {warmup.Stream} in {produced.Seconds:0.00} s, {drainedMessages:N0} drained by group {warmup.Group} in {drained?.Seconds ?? 0:0.00} s, {errors} errors"));
        return (produced.Messages, drainedMessages, errors);
    }

    public static async Task<RunReport> ProduceAsync(IDatabase db, RedisSettings settings, string server, TextWriter output, CancellationToken cancellationToken,
        string label = "redis produce")
    {
        var latency = new LatencyRecorder();
        long confirmed = 0, errors = 0;
        byte[] payload = new byte[settings.Size];
        Random.Shared.NextBytes(payload);
        RedisValue value = payload;
        using var window = new SemaphoreSlim(settings.Window);
        var started = Stopwatch.GetTimestamp();
        await using (new ProgressDisplay(label, () => Volatile.Read(ref confirmed), () => Volatile.Read(ref errors), output))
        {
            for (long i = 0; i < settings.Messages; i++)
            {
                await window.WaitAsync(cancellationToken);
                long sentAt = Stopwatch.GetTimestamp();
                _ = db.StreamAddAsync(settings.Stream, Field, value).ContinueWith(task =>
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
            for (int w = 0; w < settings.Window; w++) await window.WaitAsync(cancellationToken); // every reply came
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        return RunReport.From("redis-produce", confirmed, confirmed * settings.Size, elapsed, latency, errors, settings.ToDictionary(server));
    }

    public static async Task<RunReport> ConsumeAsync(IDatabase db, RedisSettings settings, string server, TextWriter output, CancellationToken cancellationToken,
        string label = "redis consume")
    {
        try
        {
            await db.StreamCreateConsumerGroupAsync(settings.Stream, settings.Group, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists: it goes on from where it was.
        }
        var latency = new LatencyRecorder();
        long acked = 0, received = 0, errors = 0, bytes = 0;
        using var window = new SemaphoreSlim(settings.Window);
        var started = Stopwatch.GetTimestamp();
        await using (new ProgressDisplay(label, () => Volatile.Read(ref acked), () => Volatile.Read(ref errors), output))
        {
            while (received < settings.Messages)
            {
                var entries = await db.StreamReadGroupAsync(settings.Stream, settings.Group, "loadtest", StreamPosition.NewMessages,
                    (int)Math.Min(settings.ReadCount, settings.Messages - received));
                if (entries.Length == 0)
                {
                    await Task.Delay(1, cancellationToken); // drained before N: more may still be coming
                    continue;
                }
                long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                foreach (var entry in entries)
                {
                    received++;
                    latency.RecordMicros(Math.Max(0, now - IdMilliseconds(entry.Id)) * 1000);
                    bytes += ((byte[]?)entry[Field])?.Length ?? 0;
                    await window.WaitAsync(cancellationToken);
                    _ = db.StreamAcknowledgeAsync(settings.Stream, settings.Group, entry.Id).ContinueWith(task =>
                    {
                        if (task.IsCompletedSuccessfully && task.Result == 1) Interlocked.Increment(ref acked);
                        else Interlocked.Increment(ref errors);
                        window.Release();
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
            for (int w = 0; w < settings.Window; w++) await window.WaitAsync(cancellationToken); // every ack answered
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        return RunReport.From("redis-consume", acked, bytes, elapsed, latency, errors, settings.ToDictionary(server));
    }

    /// <summary>The milliseconds part of a stream entry id (<c>ms-seq</c>).</summary>
    internal static long IdMilliseconds(RedisValue id)
    {
        string text = id.ToString();
        int dash = text.IndexOf('-', StringComparison.Ordinal);
        return long.Parse(dash < 0 ? text : text[..dash], CultureInfo.InvariantCulture);
    }
}
