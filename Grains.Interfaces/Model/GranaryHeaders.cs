namespace Granary.Client;

/// <summary>Header names Granary reads or writes. The <c>granary.</c> prefix is reserved for them.</summary>
public static class GranaryHeaders
{
    /// <summary>The sender's message id (UTF-8): within the topic's dedup window a second message with it is not stored.</summary>
    public const string MessageId = "granary.message-id";

    /// <summary>
    /// The MIME type of the payload (<c>application/json</c>), written by the client SDK's typed producers from their
    /// serializer and checked by its typed consumers. Not <c>granary.</c>-prefixed: it is the name CloudEvents' Kafka
    /// binding and other brokers' clients use.
    /// </summary>
    public const string ContentType = "content-type";

    /// <summary>Why a message was dead-lettered: <c>max-deliveries</c>, <c>expired</c>, <c>rejected</c> or <c>deserialization</c>.</summary>
    public const string DeadLetterReason = "granary.dlq.reason";

    /// <summary>Deliveries of the message before it was dead-lettered (decimal text).</summary>
    public const string DeadLetterAttempts = "granary.dlq.attempts";

    /// <summary>When it was dead-lettered (Unix milliseconds, decimal text).</summary>
    public const string DeadLetteredAt = "granary.dlq.time";

    /// <summary>
    /// On a dead letter too large for its dead-letter topic: the size of the payload that was left out (the key and
    /// the sender's headers are left out too; Granary's headers remain).
    /// </summary>
    public const string DeadLetterPayloadDropped = "granary.dlq.payload-dropped";

    /// <summary>The topic it came from.</summary>
    public const string SourceTopic = "granary.source.topic";

    /// <summary>The partition it came from (decimal text).</summary>
    public const string SourcePartition = "granary.source.partition";

    /// <summary>Its offset there (decimal text).</summary>
    public const string SourceOffset = "granary.source.offset";

    /// <summary>Its original broker timestamp (Unix milliseconds, decimal text).</summary>
    public const string SourceTimestamp = "granary.source.timestamp";

    /// <summary>The group that dead-lettered it.</summary>
    public const string SourceGroup = "granary.source.group";

    /// <summary>On a redriven message: the only group it is delivered to; every other group skips it.</summary>
    public const string RedriveGroup = "granary.redrive.group";

    /// <summary>
    /// W3C Trace Context <c>traceparent</c> of the producer's <c>publish</c> activity (ASCII), added by the client SDK
    /// only while something listens to its <c>Granary</c> activity source. Not <c>granary.</c>-prefixed: it is the
    /// standard name, so other W3C-aware code reads it as it is.
    /// </summary>
    public const string TraceParent = "traceparent";

    /// <summary>W3C Trace Context <c>tracestate</c> that goes with <see cref="TraceParent"/>, when the activity has one.</summary>
    public const string TraceState = "tracestate";

    /// <summary>Dead-letter reasons.</summary>
    public static class Reasons
    {
        /// <summary>Delivered <c>MaxDeliveries</c> times without an ack.</summary>
        public const string MaxDeliveries = "max-deliveries";
        /// <summary>Its time to live ran out.</summary>
        public const string Expired = "expired";
        /// <summary>A consumer rejected it explicitly.</summary>
        public const string Rejected = "rejected";
        /// <summary>A typed consumer could not deserialize its payload (or its content type was not the consumer's).</summary>
        public const string Deserialization = "deserialization";
    }
}
