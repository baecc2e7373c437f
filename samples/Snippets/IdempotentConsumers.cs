using Granary.Client;
using Microsoft.Extensions.Hosting;

namespace Granary.Samples.Snippets;

/// <summary>README: Idempotent consumers, in one process.</summary>
public sealed class IdempotentBillingWorker(IGranaryClientProvider clients) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var client = await clients.GetClientAsync(stoppingToken);
        await using var consumer = client.CreateConsumer("orders", "billing");
        // <idempotency-in-memory>
        var store = new InMemoryIdempotencyStore(new InMemoryIdempotencyStoreOptions { Capacity = 100_000, Retention = TimeSpan.FromHours(1) });
        await consumer.RunAsync(HandleAsync, new HandlerOptions { IdempotencyStore = store }, stoppingToken);
        // </idempotency-in-memory>
    }

    private static Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>README: Idempotent consumers, shared through PostgreSQL (package Granary.Client.Idempotency.PostgreSql).</summary>
public static class PostgresIdempotency
{
    /// <summary>Creates the table of handled ids if it is missing, and purges what expired.</summary>
    public static async Task PrepareAsync(string connectionString)
    {
        // <idempotency-postgres>
        await using var store = new PostgresIdempotencyStore(connectionString, new PostgresIdempotencyStoreOptions { TableName = "billing_handled" });
        await store.EnsureTableAsync();      // CREATE TABLE IF NOT EXISTS
        await store.PurgeExpiredAsync();     // now and then: deletes expired claims and completed ids past Retention (1 day)
        // </idempotency-postgres>
    }
}
