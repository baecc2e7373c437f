using System.Diagnostics;
using System.Globalization;
using Granary.Client;
using Granary.Grains;
using Granary.LoadTest.Reporting;

namespace Granary.LoadTest.Scenarios;

/// <summary>Settings of <c>consume</c>.</summary>
internal sealed record ConsumeSettings(string Topic, string Group, long Messages, int Consumers, DeliveryMode Mode, int Prefetch)
{
    public IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["topic"] = Topic,
        ["group"] = Group,
        ["messages"] = Messages.ToString(CultureInfo.InvariantCulture),
        ["consumers"] = Consumers.ToString(CultureInfo.InvariantCulture),
        ["mode"] = Mode.ToString(),
        ["prefetch"] = Prefetch.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// <c>consume</c>: K consumers of one group receive and acknowledge N messages (acks are not awaited one by one: the
/// consumer batches them; the run ends when N acks are confirmed). Latency is from the broker's timestamp to receipt,
/// so on a backlog it is the messages' age.
/// </summary>
internal static class ConsumeScenario
{
    public static async Task<RunReport> RunAsync(GranaryClient client, ConsumeSettings settings, TextWriter output, CancellationToken cancellationToken,
        SiloAllocationProbe? allocation = null)
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
            await using (new ProgressDisplay("consume", () => Volatile.Read(ref acked), () => Volatile.Read(ref errors), output))
            {
                var readers = consumers.Select(consumer => Task.Run(async () =>
                {
                    await foreach (var message in consumer.ReadAllAsync(stop.Token))
                    {
                        latency.RecordMicros((DateTimeOffset.UtcNow - message.Timestamp).Ticks / 10);
                        Interlocked.Add(ref bytes, message.Payload.Length);
                        _ = message.AckAsync().ContinueWith(task =>
                        {
                            if (!task.IsCompletedSuccessfully) Interlocked.Increment(ref errors);
                            else if (Interlocked.Increment(ref acked) == settings.Messages) allAcked.TrySetResult();
                        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    }
                }, stop.Token)).ToList();
                var finished = await Task.WhenAny(allAcked.Task, Task.WhenAll(readers));
                await finished; // a reader's error (unknown topic, ...) ends the run
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
        }
        // Read once the consumers left, so that it counts their leases' release too.
        var allocated = allocation is null ? null : await allocation.StopAsync(Interlocked.Read(ref acked), cancellationToken);
        return RunReport.From("consume", acked, Interlocked.Read(ref bytes), elapsed, latency, errors, settings.ToDictionary()) with { SiloAllocation = allocated };
    }
}
