namespace Granary.Tests.Client;

[Collection(BrokerCluster.Name)]
public sealed class OutgoingMessageValidationTests(BrokerClusterFixture fixture)
{
    public static TheoryData<string> BadMessages => [.. Bad.Keys];

    private static readonly Dictionary<string, OutgoingMessage> Bad = new()
    {
        ["null header value"] = new("x"u8.ToArray()) { Headers = new Dictionary<string, byte[]> { ["h"] = null! } },
        ["too many headers"] = new("x"u8.ToArray()) { Headers = Enumerable.Range(0, OutgoingMessage.MaxHeaders + 1).ToDictionary(i => $"h{i}", _ => Array.Empty<byte>()) },
        ["delay max"] = new("x"u8.ToArray()) { Delay = TimeSpan.MaxValue },
        ["delay negative"] = new("x"u8.ToArray()) { Delay = TimeSpan.FromSeconds(-1) },
        ["ttl max"] = new("x"u8.ToArray()) { TimeToLive = TimeSpan.MaxValue },
        ["ttl negative"] = new("x"u8.ToArray()) { TimeToLive = TimeSpan.FromSeconds(-1) },
        ["ttl min"] = new("x"u8.ToArray()) { TimeToLive = TimeSpan.MinValue },
        ["deliver-at max"] = new("x"u8.ToArray()) { DeliverAt = DateTimeOffset.MaxValue },
        ["deliver-at max with delay"] = new("x"u8.ToArray()) { DeliverAt = DateTimeOffset.MaxValue, Delay = TimeSpan.FromSeconds(1) },
        ["negative partition"] = new("x"u8.ToArray()) { Partition = -1 },
        ["empty message id"] = new("x"u8.ToArray()) { MessageId = "" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task SendAsync_BadField_TypedInvalidArgument_AndTheOtherSendsAreStored(string which)
    {
        string topic = BrokerClusterFixture.UniqueTopic("validate");
        await fixture.Client.Admin.CreateTopicAsync(topic);
        await using var producer = fixture.Client.CreateProducer(topic);

        // The bad one in the middle of a pipelined run: it alone fails.
        var sends = new List<Task<SendReceipt>>();
        for (int i = 0; i < 5; i++) sends.Add(producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)) { Key = "k" }));
        var bad = producer.SendAsync(Bad[which]);
        for (int i = 5; i < 10; i++) sends.Add(producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)) { Key = "k" }));

        var error = await Assert.ThrowsAsync<GranaryException>(() => bad);
        Assert.Equal(GranaryErrorCode.InvalidArgument, error.Code);
        var receipts = await Task.WhenAll(sends);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), receipts.Select(r => r.Offset));
    }

    [Fact]
    public async Task SendAsync_LongestDelayAndTimeToLive_AreAccepted()
    {
        string topic = BrokerClusterFixture.UniqueTopic("validate");
        await fixture.Client.Admin.CreateTopicAsync(topic);
        await using var producer = fixture.Client.CreateProducer(topic);

        var receipt = await producer.SendAsync(new OutgoingMessage("x"u8.ToArray())
        {
            Delay = OutgoingMessage.MaxTimeToLiveOrDelay,
            TimeToLive = OutgoingMessage.MaxTimeToLiveOrDelay,
            Headers = new Dictionary<string, byte[]> { ["empty"] = [] },
        });

        Assert.Equal(0, receipt.Offset);
    }
}
