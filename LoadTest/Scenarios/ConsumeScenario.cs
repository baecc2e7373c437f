using System.Diagnostics;
using System.Globalization;
using Granary.Client;
using Granary.Grains;
using Granary.LoadTest.Reporting;

namespace Granary.LoadTest.Scenarios;

/// <summary>How <c>consume</c> acknowledges each message (<c>--ack</c>).</summary>
internal enum AckStyle
{
    /// <summary><c>_ = message.AckAsync();</c>: queued, not awaited.</summary>
    Forget,

    /// <summary><c>await message.AckAsync();</c> in the loop (the README's Quickstart).</summary>
    Awaited,

    /// <summary><c>await message.AckConfirmedAsync();</c> in the loop: a broker round trip per message.</summary>
    Confirmed,

    /// <summary><c>_ = message.AckConfirmedAsync();</c>, each answer counted as it arrives.</summary>
    ConfirmedForget,
}

/// <summary>Settings of <c>consume</c>.</summary>
internal sealed record ConsumeSettings(string Topic, string Group, long Messages, int Consumers, DeliveryMode Mode, int Prefetch, AckStyle Ack = AckStyle.Forget, long Warmup = 0)
{
    /// <summary>The unmeasured phase of <c>--warmup N</c>: these same settings draining N messages of <c>{topic}-warmup</c>.</summary>
    public ConsumeSettings WarmupPhase => this with { Topic = Topics.WarmupName(Topic), Messages = Warmup, Warmup = 0 };

    public IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["topic"] = Topic,
        ["group"] = Group,
        ["messages"] = Messages.ToString(CultureInfo.InvariantCulture),
        ["consumers"] = Consumers.ToString(CultureInfo.InvariantCulture),
        ["mode"] = Mode.ToString(),
        ["prefetch"] = Prefetch.ToString(CultureInfo.InvariantCulture),
        ["ack"] = Ack.ToString(),
        ["warmup"] = Warmup.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// <c>consume</c>: K consumers of one group receive and acknowledge N messages, each ack as <see cref="AckStyle"/>
/// says; the run ends when the broker has answered N acks (for queued acks: when <c>FlushAcksAsync</c> returns after
/// the N-th). Latency is from the broker's timestamp to receipt, so on a backlog it is the messages' age.
/// With <c>--warmup N</c> the same client and group first drain N messages of <c>{topic}-warmup</c> (left there by
/// <c>produce --warmup N</c>) the same way, and the consumers of that phase leave before the measured one starts.
/// </summary>
internal static class ConsumeScenario
{
    public static async Task<RunReport> RunAsync(GranaryClient client, ConsumeSettings settings, TextWriter output, CancellationToken cancellationToken,
        SiloAllocationProbe? allocation = null)
    {
        var counts = new Dictionary<string, long>();
        if (settings.Warmup > 0)
        {
            var warmup = settings.WarmupPhase;
            await RequireBacklogAsync(client, warmup, cancellationToken);
            var warm = await DrainAsync(client, warmup, "consume warm-up", output, allocation: null, cancellationToken);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up (not measured): {warm.Messages:N0} of {settings.Warmup:N0} warm-up messages drained first from {warmup.Topic} by group {warmup.Group} in {warm.Seconds:0.00} s, {warm.Errors} errors"));
            counts["warm-up messages"] = warm.Messages;
            counts["warm-up errors"] = warm.Errors;
        }
        return await DrainAsync(client, settings, "consume", output, allocation, cancellationToken) with { Counts = counts };
    }

    /// <summary>
    /// Refuses a warm-up that could never end: the group must have at least <c>settings.Messages</c> unacknowledged
    /// messages on the warm-up topic (all of them when the group is new: it starts at the earliest).
    /// </summary>
    private static async Task RequireBacklogAsync(GranaryClient client, ConsumeSettings settings, CancellationToken cancellationToken)
    {
        TopicDescription topic;
        try
        {
            topic = await client.Admin.DescribeTopicAsync(settings.Topic, cancellationToken);
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            throw new ArgumentException($"--warmup {settings.Messages}: the warm-up topic {settings.Topic} does not exist (run produce with --warmup first)");
        }
        long available;
        try
        {
            available = (await client.Admin.GetLagAsync(settings.Topic, settings.Group, cancellationToken)).TotalLag;
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.GroupNotFound)
        {
            available = topic.PartitionDetails.Sum(p => p.EndOffset - p.StartOffset);
        }
        if (available < settings.Messages)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--warmup {settings.Messages}: the warm-up topic {settings.Topic} holds only {available} messages not yet acknowledged by group {settings.Group}"));
    }

    /// <summary>One phase: the consumers drain <c>settings.Messages</c> of <c>settings.Topic</c>, then leave.</summary>
    private static async Task<RunReport> DrainAsync(GranaryClient client, ConsumeSettings settings, string label, TextWriter output,
        SiloAllocationProbe? allocation, CancellationToken cancellationToken)
    {
        var latency = new LatencyRecorder();
        long acked = 0, errors = 0, bytes = 0;
        var allAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (allocation is not null) await allocation.StartAsync(cancellationToken);
        var options = new ConsumerOptions { Mode = settings.Mode, MaxPrefetch = settings.Prefetch, AckTimeout = TimeSpan.FromMinutes(5) };
        var consumers = Enumerable.Range(0, settings.Consumers).Select(_ => client.CreateConsumer(settings.Topic, settings.Group, options)).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        TimeSpan elapsed;
        try
        {
            await using (new ProgressDisplay(label, () => Volatile.Read(ref acked), () => Volatile.Read(ref errors), output))
            {
                var readers = consumers.Select(consumer => Task.Run(async () =>
                {
                    await foreach (var message in consumer.ReadAllAsync(stop.Token))
                    {
                        latency.RecordMicros((DateTimeOffset.UtcNow - message.Timestamp).Ticks / 10);
                        Interlocked.Add(ref bytes, message.Payload.Length);
                        switch (settings.Ack)
                        {
                            case AckStyle.Awaited:
                                await message.AckAsync();
                                Counted(succeeded: true);
                                break;
                            case AckStyle.Confirmed:
                                Counted(await Succeeds(message.AckConfirmedAsync()));
                                break;
                            case AckStyle.ConfirmedForget:
                                _ = message.AckConfirmedAsync().ContinueWith(task => Counted(task.IsCompletedSuccessfully),
                                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                                break;
                            default:
                                Counted(message.AckAsync().IsCompletedSuccessfully);
                                break;
                        }
                    }
                }, stop.Token)).ToList();
                var finished = await Task.WhenAny(allAcked.Task, Task.WhenAll(readers));
                await finished; // a reader's error (unknown topic, ...) ends the run
                // Queued acks: the run is done when the broker has answered them (refusals are counted below).
                if (settings.Ack is AckStyle.Forget or AckStyle.Awaited)
                    await Task.WhenAll(consumers.Select(c => Succeeds(c.FlushAcksAsync())));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            elapsed = Stopwatch.GetElapsedTime(started); // the consumers' leaving is not part of the measure
            await stop.CancelAsync();
            foreach (var consumer in consumers) await consumer.DisposeAsync();
            Interlocked.Add(ref errors, consumers.Sum(c => c.FailedAcks));
        }
        // Read once the consumers left, so that it counts their leases' release too.
        var allocated = allocation is null ? null : await allocation.StopAsync(Interlocked.Read(ref acked), cancellationToken);
        void Counted(bool succeeded)
        {
            if (!succeeded) Interlocked.Increment(ref errors);
            else if (Interlocked.Increment(ref acked) == settings.Messages) allAcked.TrySetResult();
        }

        return RunReport.From("consume", acked, Interlocked.Read(ref bytes), elapsed, latency, errors, settings.ToDictionary()) with { SiloAllocation = allocated };
    }

    /// <summary>Awaits <paramref name="task"/>; false when it failed with a broker error.</summary>
    private static async Task<bool> Succeeds(Task task)
    {
        try
        {
            await task;
            return true;
        }
        catch (GranaryException)
        {
            return false;
        }
    }
}
