using System.Text.Json;
using System.Text.Json.Serialization;
using Granary.Client.Internal;
using Granary.Client.Serialization;

namespace Granary.Tests.Client;

public sealed record TypedOrder(string Id, decimal Amount);

[JsonSerializable(typeof(TypedOrder))]
internal sealed partial class TypedTestJson : JsonSerializerContext;

/// <summary>The serializer abstraction: JSON by default, source-generated contracts, content types, headers of typed sends.</summary>
public sealed class TypedSerializationTests
{
    [Fact]
    public void Json_Default_RoundTrips_WithWebNames_AndRecordsItsContentType()
    {
        var serializer = new JsonMessageSerializer<TypedOrder>();
        byte[] payload = serializer.Serialize(new TypedOrder("o-1", 12.5m));
        Assert.Equal("""{"id":"o-1","amount":12.5}""", Encoding.UTF8.GetString(payload));
        Assert.Equal(new TypedOrder("o-1", 12.5m), serializer.Deserialize(payload));
        Assert.Equal("application/json", serializer.ContentType);
    }

    [Fact]
    public void Json_SourceGeneratedContract_And_Context_RoundTrip()
    {
        var fromTypeInfo = new JsonMessageSerializer<TypedOrder>(TypedTestJson.Default.TypedOrder);
        var fromContext = new JsonMessageSerializer<TypedOrder>(TypedTestJson.Default);
        byte[] payload = fromTypeInfo.Serialize(new TypedOrder("o-2", 3m));
        Assert.Equal("""{"Id":"o-2","Amount":3}""", Encoding.UTF8.GetString(payload)); // the context's own (default) naming
        Assert.Equal(new TypedOrder("o-2", 3m), fromContext.Deserialize(payload));
    }

    [Fact]
    public void Json_ContextWithoutTheType_IsRefusedAtConstruction()
    {
        var error = Assert.Throws<ArgumentException>(() => new JsonMessageSerializer<Uri>(TypedTestJson.Default));
        Assert.Contains("Uri", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("""{"id":"o-1","amount":"twelve"}""")]
    public void Json_APayloadThatIsNotAValue_Throws(string payload)
    {
        var serializer = new JsonMessageSerializer<TypedOrder>();
        Assert.ThrowsAny<JsonException>(() => serializer.Deserialize(Encoding.UTF8.GetBytes(payload)));
    }

    [Theory]
    [InlineData(null, true)] // an untyped producer's message: try it
    [InlineData("application/json", true)]
    [InlineData("Application/JSON; charset=utf-8", true)]
    [InlineData("application/x-protobuf", false)]
    [InlineData("text/plain", false)]
    public void ContentTypes_MatchMediaType_IgnoringCaseAndParameters(string? header, bool accepted) =>
        Assert.Equal(accepted, ContentTypes.Accepts(header, "application/json"));

    [Fact]
    public void TypedSend_AddsTheContentTypeHeader_KeepsTheSendersHeadersAndSettings()
    {
        var serializer = new JsonMessageSerializer<TypedOrder>();
        var message = SerializingProducer<TypedOrder>.ToOutgoing(new OutgoingMessage<TypedOrder>(new TypedOrder("o-3", 1m))
        {
            Key = "k",
            Headers = new Dictionary<string, byte[]> { ["app"] = "1"u8.ToArray() },
            TimeToLive = TimeSpan.FromMinutes(1),
            MessageId = "id-3",
        }, serializer, "application/json"u8.ToArray());
        Assert.Equal(("k", "id-3", TimeSpan.FromMinutes(1)), (message.Key, message.MessageId, message.TimeToLive));
        Assert.Equal("1"u8.ToArray(), message.Headers!["app"]);
        Assert.Equal("application/json"u8.ToArray(), message.Headers[GranaryHeaders.ContentType]);
        Assert.Equal(new TypedOrder("o-3", 1m), serializer.Deserialize(message.Payload.Span));
    }

    [Fact]
    public void TypedSend_AContentTypeTheSenderSet_IsKept()
    {
        var message = SerializingProducer<TypedOrder>.ToOutgoing(new OutgoingMessage<TypedOrder>(new TypedOrder("o-4", 1m))
        {
            Headers = new Dictionary<string, byte[]> { [GranaryHeaders.ContentType] = "application/vnd.orders+json"u8.ToArray() },
        }, new JsonMessageSerializer<TypedOrder>(), "application/json"u8.ToArray());
        Assert.Equal("application/vnd.orders+json"u8.ToArray(), message.Headers![GranaryHeaders.ContentType]);
    }
}
