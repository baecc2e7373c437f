namespace Granary.Tests.Cluster;

/// <summary>The PostgreSQL idempotency store: one claim wins across processes, and the claim and retention rules.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresIdempotencyStoreTests(PostgresFixture postgres)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<(PostgresIdempotencyStore A, PostgresIdempotencyStore B)> TwoStoresAsync(PostgresIdempotencyStoreOptions? options = null)
    {
        string database = await postgres.CreateDatabaseAsync();
        var a = new PostgresIdempotencyStore(database, options);
        await a.EnsureTableAsync();
        await a.EnsureTableAsync(); // idempotent
        return (a, new PostgresIdempotencyStore(database, options));
    }

    [Fact]
    public async Task OfManyConcurrentClaimsFromTwoStores_ExactlyOneStarts_AndACompletedIdIsADuplicateForBoth()
    {
        var (a, b) = await TwoStoresAsync();
        await using var _ = a;
        await using var __ = b;
        var claims = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? a : b).TryBeginAsync("orders/0/42", None).AsTask()));
        Assert.Single(claims, c => c == IdempotencyStatus.Started);
        Assert.All(claims.Where(c => c != IdempotencyStatus.Started), c => Assert.Equal(IdempotencyStatus.InProgress, c));

        await a.CompleteAsync("orders/0/42", None);
        Assert.Equal(IdempotencyStatus.Completed, await b.TryBeginAsync("orders/0/42", None));
        await b.AbandonAsync("orders/0/42", None); // a completed id stays completed
        Assert.Equal(IdempotencyStatus.Completed, await a.TryBeginAsync("orders/0/42", None));
    }

    [Fact]
    public async Task AnAbandonedClaim_StartsAgain_AndAnExpiredOneIsTakenOver()
    {
        var (a, b) = await TwoStoresAsync(new PostgresIdempotencyStoreOptions { ClaimTimeout = TimeSpan.FromSeconds(1) });
        await using var _ = a;
        await using var __ = b;
        Assert.Equal(IdempotencyStatus.Started, await a.TryBeginAsync("m1", None));
        await a.AbandonAsync("m1", None);
        Assert.Equal(IdempotencyStatus.Started, await b.TryBeginAsync("m1", None));

        // b's handler "died" holding the claim: after ClaimTimeout another delivery takes it over.
        IdempotencyStatus status = IdempotencyStatus.InProgress;
        await Eventually.UntilAsync(async () => (status = await a.TryBeginAsync("m1", None)) == IdempotencyStatus.Started, TimeSpan.FromSeconds(60));
        Assert.Equal(IdempotencyStatus.Started, status);
        Assert.True(await a.PurgeExpiredAsync() >= 0);
    }

    [Fact]
    public void ATableNameThatIsNotAnIdentifier_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new PostgresIdempotencyStore("Host=127.0.0.1", new PostgresIdempotencyStoreOptions { TableName = "x; drop table y" }));
    }
}
