using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Granary.Client;
using Granary.LoadTest.Reporting;
using Granary.LoadTest.Targets;

namespace Granary.LoadTest.Scenarios;

/// <summary>Settings of <c>verify</c>.</summary>
internal sealed record VerifySettings(long Messages, TimeSpan? KillEvery, string DataDirectory, TimeSpan DrainTimeout, double Rate, int Silos = 1)
{
    public IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["messages"] = Messages.ToString(CultureInfo.InvariantCulture),
        ["rate"] = Rate.ToString(CultureInfo.InvariantCulture),
        ["kill-silo-every"] = KillEvery?.TotalSeconds.ToString(CultureInfo.InvariantCulture) ?? "never",
        ["data-dir"] = DataDirectory,
        ["silos"] = Silos.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// <c>verify</c>: starts a real silo process, produces N uniquely numbered messages with confirms while a group
/// consumes and acknowledges them, and (with <c>--kill-silo-every</c>) kills the silo with SIGKILL every few seconds
/// and starts it again. Sends that fail while the silo is down are sent again later (so they may be stored twice:
/// counted as duplicated, never as lost). At the end it drains the group and reports confirmed, received, lost,
/// duplicated and unexpected counts.
/// </summary>
internal static class VerifyScenario
{
    internal const string Topic = "verify";
    private const string Group = "verify";
    private const int Window = 1000;

    public static async Task<(RunReport Report, VerifyCounts Counts)> RunAsync(VerifySettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var (root, checker, toSend) = Prepare(settings);
        long confirmed = 0, errors = 0, kills = 0;
        var latency = new LatencyRecorder();
        var started = Stopwatch.GetTimestamp();
        await using var silo = new SiloProcess(Path.Combine(root, "data"));
        try
        {
            silo.Start();
            await using (new ProgressDisplay("verify", () => Volatile.Read(ref confirmed), () => Volatile.Read(ref errors), output))
            {
                // Paced over the whole run (not per life of the silo), so that kills land while messages flow.
                var pacer = new Schedule(settings.Rate);
                int failedStarts = 0;
                while (Volatile.Read(ref confirmed) < settings.Messages)
                {
                    using var epoch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    var life = RunEpochAsync(silo, checker, toSend, latency, pacer, () => Interlocked.Increment(ref confirmed), () => Interlocked.Increment(ref errors),
                        drain: false, killing: settings.KillEvery is not null, connected, epoch.Token, cancellationToken);
                    bool killed = false;
                    // The kill timer starts once the client is connected: a silo that takes longer to start than the
                    // interval must still get some work done in each life.
                    if (settings.KillEvery is { } every && await Task.WhenAny(life, connected.Task) != life
                        && await Task.WhenAny(life, Task.Delay(every, cancellationToken)) != life)
                    {
                        // Killed under load: sends and acks are in flight right now.
                        await silo.KillAsync();
                        kills++;
                        killed = true;
                    }
                    await epoch.CancelAsync();
                    if (await life) failedStarts = 0;
                    else if (++failedStarts == 3)
                        throw new GranaryException(GranaryErrorCode.Timeout, "The silo did not accept a connection after three starts; see its log.");
                    if (killed) silo.Start();
                }
                // No more kills: read until every confirmed message has arrived, or the drain timeout passes.
                using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                drain.CancelAfter(settings.DrainTimeout);
                await RunEpochAsync(silo, checker, toSend, latency, pacer, () => 0, () => Interlocked.Increment(ref errors),
                    drain: true, killing: false, connected: null, drain.Token, cancellationToken);
            }
        }
        finally
        {
            await silo.KillAsync();
            Directory.Delete(root, recursive: true);
        }
        return Report(settings, checker, started, latency, errors, kills);
    }

    /// <summary>A run's directory (under <c>--data-dir</c>), its checker and the queue of ids still to send.</summary>
    internal static (string Root, VerifyChecker Checker, ConcurrentQueue<long> ToSend) Prepare(VerifySettings settings)
    {
        string root = Path.Combine(Path.GetFullPath(settings.DataDirectory), $"verify-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var toSend = new ConcurrentQueue<long>();
        for (long i = 0; i < settings.Messages; i++) toSend.Enqueue(i);
        return (root, new VerifyChecker(settings.Messages), toSend);
    }

    internal static (RunReport Report, VerifyCounts Counts) Report(VerifySettings settings, VerifyChecker checker, long started, LatencyRecorder latency, long errors, long kills)
    {
        var counts = checker.Counts();
        var report = RunReport.From("verify", counts.Confirmed, counts.Confirmed * sizeof(long), Stopwatch.GetElapsedTime(started), latency, errors, settings.ToDictionary())
            with { Counts = new Dictionary<string, long>(counts.ToDictionary()) { ["silo kills"] = kills } };
        return (report, counts);
    }

    /// <summary>
    /// One life of the silo: connect, send what is still unconfirmed and consume, until the epoch ends (the kill timer)
    /// or, when draining, every confirmed message has arrived.
    /// </summary>
    /// <returns>False when no client could connect.</returns>
    private static async Task<bool> RunEpochAsync(SiloProcess silo, VerifyChecker checker, ConcurrentQueue<long> toSend, LatencyRecorder latency, Schedule pacer,
        Func<long> onConfirmed, Func<long> onError, bool drain, bool killing, TaskCompletionSource? connected, CancellationToken epoch, CancellationToken cancellationToken)
    {
        GranaryClient client;
        try
        {
            client = await silo.ConnectAsync(cancellationToken);
        }
        catch (GranaryException) when (!cancellationToken.IsCancellationRequested)
        {
            onError();
            return false;
        }
        connected?.TrySetResult();
        try
        {
            await Topics.EnsureAsync(client, Topic, partitions: 4);
            await using var consumer = client.CreateConsumer(Topic, Group, new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(30) });
            using var stopConsuming = CancellationTokenSource.CreateLinkedTokenSource(epoch);
            var consuming = ConsumeAsync(consumer, checker, stopConsuming.Token);
            if (drain)
            {
                while (!checker.AllConfirmedReceived && !epoch.IsCancellationRequested)
                    await Task.Delay(100, epoch).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            else
            {
                await ProduceAsync(client, checker, toSend, latency, pacer, onConfirmed, onError, epoch);
                // All sent: keep consuming until the kill (or, without kills, go straight to the drain).
                if (killing) await Task.Delay(Timeout.Infinite, epoch).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            await stopConsuming.CancelAsync();
            await consuming.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (GranaryException)
        {
            onError(); // the silo went away under a call: the next epoch carries on
        }
        finally
        {
            await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        return true;
    }

    internal static async Task ProduceAsync(GranaryClient client, VerifyChecker checker, ConcurrentQueue<long> toSend, LatencyRecorder latency, Schedule pacer,
        Func<long> onConfirmed, Func<long> onError, CancellationToken epoch)
    {
        await using var producer = client.CreateProducer(Topic);
        using var window = new SemaphoreSlim(Window);
        while (!epoch.IsCancellationRequested)
        {
            if (!toSend.TryDequeue(out long id))
            {
                // Everything is sent or in flight: wait for the in-flight ones (a failure puts its id back).
                if (window.CurrentCount == Window) return;
                await Task.Delay(10, CancellationToken.None);
                continue;
            }
            await pacer.WaitNextAsync(epoch).AsTask().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await window.WaitAsync(CancellationToken.None);
            var payload = new byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(payload, id);
            long sentAt = Stopwatch.GetTimestamp();
            _ = producer.SendAsync(new OutgoingMessage(payload) { Key = id.ToString(CultureInfo.InvariantCulture) }, CancellationToken.None).ContinueWith(task =>
            {
                if (task.IsCompletedSuccessfully)
                {
                    latency.Record(Stopwatch.GetTimestamp() - sentAt);
                    checker.Confirmed(id);
                    onConfirmed();
                }
                else
                {
                    onError();
                    toSend.Enqueue(id); // outcome unknown: send it again (a duplicate at worst)
                }
                window.Release();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        // The epoch ended: let what is in flight finish (confirmed or failed) before the client goes.
        for (int i = 0; i < Window; i++) await window.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
    }

    internal static async Task ConsumeAsync(GranaryConsumer consumer, VerifyChecker checker, CancellationToken epoch)
    {
        try
        {
            await foreach (var message in consumer.ReadAllAsync(epoch))
            {
                checker.Received(BinaryPrimitives.ReadInt64LittleEndian(message.Payload.Span));
                _ = message.AckAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (epoch.IsCancellationRequested)
        {
        }
        catch (GranaryException)
        {
            // The silo went away: what was not acknowledged comes again after the restart.
        }
    }

    /// <summary>
    /// The pacer of the whole run: each send, whichever life of the silo it falls in, takes the next slot. The clock
    /// starts at the first send, not when the silo process starts: a slow start would otherwise leave every message
    /// due at once, and a burst could end the run before the first kill.
    /// </summary>
    internal sealed class Schedule(double rate)
    {
        private readonly Lazy<Pacer> _pacer = new(() => Pacer.Start(rate));
        private long _next;

        public ValueTask WaitNextAsync(CancellationToken cancellationToken) => _pacer.Value.WaitTurnAsync(Interlocked.Increment(ref _next) - 1, cancellationToken);
    }
}
