using Granary.Grains.Delivery;
using Granary.Tests.DeliveryRules;

namespace Granary.Tests.Client;

/// <summary>A reject may carry its reason (deserialization) through to the dead letter; a plain reject keeps "rejected".</summary>
public sealed class TypedRejectReasonTests
{
    [Theory]
    [InlineData(GranaryHeaders.Reasons.Deserialization)]
    [InlineData(GranaryHeaders.Reasons.Rejected)]
    public void Reject_WithAReason_DeadLettersWithIt_AndCountsIt(string header)
    {
        Assert.True(RejectReasons.TryParse(header, out var reason));
        var h = new DeliveryHarness();
        h.Append(1);
        var lease = Assert.Single(h.Pull("A"));
        Assert.Empty(h.State.Reject("A", [lease.Ref], reason));
        h.Refill();
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((header, 1), (letter.Reason, letter.Attempts));
        var counts = h.State.DeadLettersWritten([letter]);
        Assert.Equal(reason == RejectReason.Deserialization ? (0, 0, 0, 1) : (0, 0, 1, 0), counts);
        Assert.Equal(1, h.State.Committed);
    }

    [Theory]
    [InlineData("deserialization", true)]
    [InlineData("rejected", true)]
    [InlineData("max-deliveries", false)] // the broker's own reasons are not a consumer's to give
    [InlineData("expired", false)]
    [InlineData("whatever", false)]
    [InlineData("", false)]
    public void OnlyConsumerReasons_Parse(string text, bool valid) => Assert.Equal(valid, RejectReasons.TryParse(text, out _));
}
