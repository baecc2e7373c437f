// The README's quickstart: every snippet there comes from the regions of this file. Tests/Packaging compiles this
// file unchanged in a new console app that references only the packed Granary.Client package, and runs it on a silo.
// <quickstart-connect>
using Granary.Client;

string gateway = args.Length > 0 ? args[0] : "127.0.0.1:30000";
string topic = args.Length > 1 ? args[1] : "orders";

await using var client = await GranaryClient.ConnectAsync(new GranaryClientOptions { Gateways = [gateway] });
await client.Admin.CreateTopicIfMissingAsync(topic, new TopicOptions { Partitions = 4 });   // safe to run again
// </quickstart-connect>

// <quickstart-produce>
await using var producer = client.CreateProducer(topic);
SendReceipt receipt = await producer.SendAsync(new OutgoingMessage("hello"u8.ToArray()) { Key = "order-42" });
Console.WriteLine($"stored at partition {receipt.Partition}, offset {receipt.Offset}");
// </quickstart-produce>

// <quickstart-consume>
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));
await using var consumer = client.CreateConsumer(topic, "billing", new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(30) });
await foreach (ReceivedMessage message in consumer.ReadAllAsync(stop.Token))
{
    Console.WriteLine($"received {message.Key} from partition {message.Partition}, offset {message.Offset}");
    await message.AckAsync();   // queued and sent in batches: no round trip per message
    if (message.Partition == receipt.Partition && message.Offset == receipt.Offset) break;   // the one sent above
}
await consumer.FlushAcksAsync();   // wait until the broker has the queued acks
// </quickstart-consume>

// <quickstart-errors>
try
{
    await client.Admin.CreateTopicAsync(topic);
}
catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicAlreadyExists)
{
    Console.WriteLine($"{topic} exists already: {e.Message}");
}
// </quickstart-errors>
