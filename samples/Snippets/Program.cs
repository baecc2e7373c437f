// Runs the snippets that need one silo and nothing else (no PostgreSQL, no TLS, no credentials) against the gateway
// given as the first argument (default 127.0.0.1:30000): Tests/Packaging/ClientPackageTests runs them on a silo. The
// others (hosted services, configuration, telemetry, the connections to a cluster or with a key) are compiled only.
using Granary.Client;
using Granary.Samples.Snippets;

string gateway = args.Length > 0 ? args[0] : "127.0.0.1:30000";
await using var client = await GranaryClient.ConnectAsync(new GranaryClientOptions { Gateways = [gateway] });
await client.Admin.CreateTopicIfMissingAsync("orders", new TopicOptions { Partitions = 4 });
byte[] body = "{\"orderId\":\"42\"}"u8.ToArray();

await DeliveryModes.JoinKeySharedAsync(client);
Ran("key-shared-consumer");

SendReceipt receipt = await ProducerIdempotence.SendOnceAsync(client, body);
Ran($"idempotent-producer: partition {receipt.Partition}, offset {receipt.Offset}");

await using (var payments = client.CreateProducer("payments"))
{
    if (!await ProducerIdempotence.SendTwiceAsync(client, payments, body)) throw new InvalidOperationException("the repeated message id was stored twice");
}
Ran("dedup-window: the repeat is a duplicate of the first");

await using (var quotes = client.CreateProducer("quotes"))
{
    await MessageExpiry.ExpireAsync(client, quotes, body);
    Ran("ttl");
    await MessageExpiry.DelayAsync(quotes, body, DateTimeOffset.UtcNow.AddDays(1));
    Ran("delayed-delivery");
}

await using (var jobs = client.CreateProducer("jobs"))
{
    await Backlog.RejectWhenFullAsync(client, jobs, new OutgoingMessage(body));
}
Ran("overflow-policy");

// The group exists once a member joined (CreateConsumer alone does not join): lag, seek and redrive need it.
await using (var member = client.CreateConsumer("orders", "billing", new ConsumerOptions { Mode = DeliveryMode.KeyShared }))
{
    await member.StartAsync();
}
await Backlog.PrintLagAsync(client);
Ran("lag");
await Backlog.SeekAsync(client);
Ran("seek");
await DeadLetters.RedriveAsync(client);
Ran("redrive");

Console.WriteLine("snippets ran");

static void Ran(string snippet) => Console.WriteLine($"ran {snippet}");
