using System.Collections.Concurrent;
using System.Diagnostics;
using Granary.Client;
using Granary.LoadTest.Reporting;
using Granary.LoadTest.Targets;

namespace Granary.LoadTest.Scenarios;

/// <summary>
/// <c>verify --silos N</c>: a cluster of N real silo processes on a throwaway PostgreSQL, the topic replicated to 3
/// silos under acks All. One client (knowing every gateway) produces numbered messages while a group consumes them;
/// every <c>--kill-silo-every</c> seconds a random silo is killed with SIGKILL and started again at once; the next
/// kill waits until it serves again, so at most one is down at a time. Counts as <see cref="VerifyScenario"/> does.
/// </summary>
internal static class ClusterVerifyScenario
{
    private static readonly TimeSpan SiloStartTimeout = TimeSpan.FromSeconds(120);

    public static async Task<(RunReport Report, VerifyCounts Counts)> RunAsync(VerifySettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var (root, checker, toSend) = VerifyScenario.Prepare(settings);
        long confirmed = 0, errors = 0, kills = 0;
        var latency = new LatencyRecorder();
        var started = Stopwatch.GetTimestamp();
        await using var postgres = await PostgresServer.StartAsync(cancellationToken);
        var silos = Enumerable.Range(0, settings.Silos)
            .Select(i => SiloProcess.ClusterMember(Path.Combine(root, $"node{i}"), postgres.ConnectionString, $"node{i}")).ToList();
        try
        {
            foreach (var silo in silos) silo.Start();
            await using var client = await GranaryClient.ConnectAsync(new GranaryClientOptions
            {
                Gateways = silos.Select(s => $"127.0.0.1:{s.GatewayPort}").ToList(),
                ConnectTimeout = TimeSpan.FromSeconds(120),
                RetryRefusedConnections = true,
            }, cancellationToken);
            await WaitForSilosAsync(client, settings.Silos, cancellationToken);
            await Topics.EnsureAsync(client, VerifyScenario.Topic, partitions: 4);

            await using (new ProgressDisplay("verify", () => Volatile.Read(ref confirmed), () => Volatile.Read(ref errors), output))
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await using var consumer = client.CreateConsumer(VerifyScenario.Topic, VerifyScenario.Topic, new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(30) });
                var consuming = ConsumeUntilStoppedAsync(consumer, checker, stop.Token);
                var killing = settings.KillEvery is { } every ? KillAsync(silos, every, () => kills++, stop.Token) : Task.CompletedTask;
                var pacer = new VerifyScenario.Schedule(settings.Rate);
                while (Volatile.Read(ref confirmed) < settings.Messages && !cancellationToken.IsCancellationRequested)
                {
                    // Returns once everything queued is confirmed or failed; failed ids are queued again.
                    await VerifyScenario.ProduceAsync(client, checker, toSend, latency, pacer, () => Interlocked.Increment(ref confirmed),
                        () => Interlocked.Increment(ref errors), cancellationToken);
                }
                await stop.CancelAsync();
                await killing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                // No more kills: bring every silo back, then read until every confirmed message has arrived.
                foreach (var silo in silos.Where(s => !s.IsRunning)) silo.Start();
                using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                drain.CancelAfter(settings.DrainTimeout);
                var draining = ConsumeUntilStoppedAsync(consumer, checker, drain.Token);
                while (!checker.AllConfirmedReceived && !drain.IsCancellationRequested)
                    await Task.Delay(100, drain.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await drain.CancelAsync();
                await Task.WhenAll(consuming, draining).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            foreach (var silo in silos) await silo.KillAsync();
            Directory.Delete(root, recursive: true);
        }
        return VerifyScenario.Report(settings, checker, started, latency, errors, kills);
    }

    /// <summary>Consumes until stopped; a call that failed (a silo died under it) is simply made again.</summary>
    private static async Task ConsumeUntilStoppedAsync(GranaryConsumer consumer, VerifyChecker checker, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await VerifyScenario.ConsumeAsync(consumer, checker, stop);
            await Task.Delay(200, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task KillAsync(List<SiloProcess> silos, TimeSpan every, Action onKill, CancellationToken stop)
    {
        SiloProcess? down = null;
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(every, stop);
            // The last victim, restarted as soon as it was killed, serves again before the next goes: a silo still
            // starting is as good as down, and killing another meanwhile would leave one of three, short of
            // MinInSyncReplicas, for as long as the kills outpace the restarts.
            if (down is not null) await down.WaitUntilReadyAsync(SiloStartTimeout, stop);
            var victim = silos.Where(s => s.IsRunning).OrderBy(_ => Random.Shared.Next()).First();
            await victim.KillAsync();
            onKill();
            victim.Start();
            down = victim;
        }
    }

    private static async Task WaitForSilosAsync(GranaryClient client, int silos, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while ((await client.Admin.GetActiveSilosAsync(cancellationToken)).Length < silos)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(120)) throw new GranaryException(GranaryErrorCode.Timeout, $"{silos} silos did not all join the cluster within 2 minutes.");
            await Task.Delay(200, cancellationToken);
        }
    }
}
