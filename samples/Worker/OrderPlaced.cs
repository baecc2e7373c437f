using System.Text.Json;
using System.Text.Json.Serialization;

namespace Granary.Samples.Worker;

// <message-type>
/// <summary>The message the worker consumes: JSON on the wire.</summary>
public sealed record OrderPlaced(string OrderId, string Customer, decimal Total);

/// <summary>Source-generated JSON contracts: no reflection, trimming- and native-AOT-friendly.</summary>
[JsonSerializable(typeof(OrderPlaced))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
public sealed partial class SampleJsonContext : JsonSerializerContext;
// </message-type>
