using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Granary.Client;

/// <summary>
/// The client SDK's metrics: one <see cref="Meter"/> named <see cref="MeterName"/> (beside the broker's
/// <c>Granary</c> meter; OpenTelemetry: <c>AddMeter("Granary.Client")</c>, or <c>AddMeter("Granary*")</c> for both).
/// Every instrument is tagged with <c>messaging.destination.name</c> (the topic), and the consumer's also with
/// <c>messaging.consumer.group.name</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>granary.client.sent</c></term><description>Counter: messages handed to a producer's queue.</description></item>
/// <item><term><c>granary.client.confirmed</c></term><description>Counter: sends confirmed durable.</description></item>
/// <item><term><c>granary.client.failed</c></term><description>Counter: sends that failed, tagged <c>error.type</c> (the <see cref="GranaryErrorCode"/>).</description></item>
/// <item><term><c>granary.client.in_flight</c></term><description>UpDownCounter: sends started and not yet confirmed or failed.</description></item>
/// <item><term><c>granary.client.received</c></term><description>Counter: messages a consumer pulled (prefetched).</description></item>
/// <item><term><c>granary.client.acked</c></term><description>Counter: acks the broker took.</description></item>
/// <item><term><c>granary.client.prefetch_fill</c></term><description>UpDownCounter: messages a consumer holds unsettled, of its <see cref="ConsumerOptions.MaxPrefetch"/>.</description></item>
/// </list>
/// </remarks>
public static class GranaryClientMetrics
{
    /// <summary>Name of the meter: pass it to OpenTelemetry's <c>AddMeter</c>.</summary>
    public const string MeterName = "Granary.Client";

    internal static readonly Meter Meter = new(MeterName, typeof(GranaryClientMetrics).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Sent = Meter.CreateCounter<long>("granary.client.sent", "{message}", "Messages handed to a producer's queue.");
    internal static readonly Counter<long> Confirmed = Meter.CreateCounter<long>("granary.client.confirmed", "{message}", "Sends confirmed durable.");
    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>("granary.client.failed", "{message}", "Sends that failed.");
    internal static readonly UpDownCounter<long> InFlight = Meter.CreateUpDownCounter<long>("granary.client.in_flight", "{message}", "Sends started and not yet confirmed or failed.");
    internal static readonly Counter<long> Received = Meter.CreateCounter<long>("granary.client.received", "{message}", "Messages a consumer pulled.");
    internal static readonly Counter<long> Acked = Meter.CreateCounter<long>("granary.client.acked", "{message}", "Acks the broker took.");
    internal static readonly UpDownCounter<long> PrefetchFill = Meter.CreateUpDownCounter<long>("granary.client.prefetch_fill", "{message}", "Messages a consumer holds unsettled.");

    internal const string TopicTag = "messaging.destination.name";
    internal const string GroupTag = "messaging.consumer.group.name";

    internal static TagList ProducerTags(string topic) => new() { { TopicTag, topic } };

    internal static TagList ConsumerTags(string topic, string group) => new() { { TopicTag, topic }, { GroupTag, group } };
}
