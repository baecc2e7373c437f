using System.Diagnostics;
using System.Text;
using Granary.Grains;

namespace Granary.Client;

/// <summary>
/// Distributed tracing of the client SDK, on the <see cref="ActivitySource"/> named <see cref="SourceName"/>
/// (OpenTelemetry: <c>AddSource("Granary")</c>). While something listens, each send runs in a Producer activity
/// <c>publish {topic}</c> whose W3C context travels in the message's <see cref="GranaryHeaders.TraceParent"/> and
/// <see cref="GranaryHeaders.TraceState"/> headers, and the handler runner (<see cref="GranaryConsumer.RunAsync"/>)
/// handles each message in a Consumer activity <c>process {topic}</c> linked to it. With no listener nothing is
/// started and no header added.
/// </summary>
/// <remarks>
/// Tags follow OpenTelemetry's messaging semantic conventions: <c>messaging.system</c> = <c>granary</c>,
/// <c>messaging.operation.type</c>, <c>messaging.destination.name</c> (topic),
/// <c>messaging.destination.partition.id</c>, <c>messaging.consumer.group.name</c>, <c>messaging.message.id</c> (the
/// sender's message id, when set) and <c>messaging.granary.offset</c>.
/// </remarks>
public static class GranaryTracing
{
    /// <summary>Name of the activity source: pass it to OpenTelemetry's <c>AddSource</c>.</summary>
    public const string SourceName = "Granary";

    internal const string SystemName = "granary";

    /// <summary>The client SDK's activity source.</summary>
    public static readonly ActivitySource Source = new(SourceName, typeof(GranaryTracing).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// The producer's trace context carried by <paramref name="message"/> (its <see cref="GranaryHeaders.TraceParent"/>
    /// and <see cref="GranaryHeaders.TraceState"/> headers), marked remote; null when it has none or it is malformed.
    /// For consumers that read with <see cref="GranaryConsumer.ReadAllAsync"/> and start their own activities: pass it
    /// as a parent, or as an <see cref="ActivityLink"/>.
    /// </summary>
    public static ActivityContext? ExtractContext(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return ExtractContext(message.Headers);
    }

    internal static ActivityContext? ExtractContext(IReadOnlyDictionary<string, byte[]> headers)
    {
        if (!headers.TryGetValue(GranaryHeaders.TraceParent, out var parent)) return null;
        string? state = headers.TryGetValue(GranaryHeaders.TraceState, out var s) ? Encoding.ASCII.GetString(s) : null;
        return ActivityContext.TryParse(Encoding.ASCII.GetString(parent), state, isRemote: true, out var context) ? context : null;
    }

    /// <summary>The <c>publish</c> activity of one send, or null when no listener samples it.</summary>
    internal static Activity? StartPublish(string name, string topic, string? messageId)
    {
        var activity = Source.StartActivity(name, ActivityKind.Producer);
        if (activity is null) return null;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("messaging.system", SystemName);
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "publish");
            activity.SetTag("messaging.destination.name", topic);
            if (messageId is not null) activity.SetTag("messaging.message.id", messageId);
        }
        return activity;
    }

    /// <summary>The headers that carry <paramref name="activity"/>'s context (W3C), or none when it is not W3C.</summary>
    internal static void AddContextHeaders(Activity activity, List<MessageHeader> headers)
    {
        if (activity.IdFormat != ActivityIdFormat.W3C || activity.Id is not { } id) return;
        headers.Add(new MessageHeader(GranaryHeaders.TraceParent, Encoding.ASCII.GetBytes(id)));
        if (activity.TraceStateString is { Length: > 0 } state) headers.Add(new MessageHeader(GranaryHeaders.TraceState, Encoding.ASCII.GetBytes(state)));
    }

    /// <summary>Ends a <c>publish</c> activity with the send's outcome.</summary>
    internal static void StopPublish(Activity activity, SendReceipt? receipt, Exception? error)
    {
        if (receipt is not null && activity.IsAllDataRequested)
        {
            activity.SetTag("messaging.destination.partition.id", receipt.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("messaging.granary.offset", receipt.Offset);
        }
        if (error is not null) SetError(activity, error);
        activity.Stop();
    }

    /// <summary>
    /// The <c>process</c> activity of one message from a handler runner, or null when the message carries no trace
    /// context or no listener samples it. As the messaging conventions recommend, it links to the producer's context;
    /// its parent is <see cref="Activity.Current"/> when there is one (the application's own span around the runner),
    /// and otherwise the producer's context, so that the trace reads on from the send.
    /// </summary>
    internal static Activity? StartProcess(string name, ReceivedMessage message, string group)
    {
        if (!Source.HasListeners() || ExtractContext(message.Headers) is not { } producer) return null;
        var parent = Activity.Current?.Context ?? producer;
        var activity = Source.StartActivity(name, ActivityKind.Consumer, parent, tags: null, links: [new ActivityLink(producer)]);
        if (activity is null) return null;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("messaging.system", SystemName);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", message.Topic);
            activity.SetTag("messaging.consumer.group.name", group);
            activity.SetTag("messaging.destination.partition.id", message.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("messaging.granary.offset", message.Offset);
            activity.SetTag("messaging.granary.delivery_attempt", message.DeliveryAttempt);
            if (message.MessageId is { } id) activity.SetTag("messaging.message.id", id);
        }
        return activity;
    }

    internal static void SetError(Activity activity, Exception error)
    {
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.SetTag("error.type", error is GranaryException g ? g.Code.ToString() : error.GetType().FullName);
    }
}
