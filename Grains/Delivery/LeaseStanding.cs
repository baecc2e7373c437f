namespace Granary.Grains.Delivery;

/// <summary>How an answer (ack, nack, reject, extend) stands to the message's current delivery.</summary>
internal enum LeaseStanding
{
    /// <summary>Its lease is the message's current one.</summary>
    Current,
    /// <summary>Its lease ended (expired, taken back, member left) and nobody was given the message since.</summary>
    Ended,
    /// <summary>The message is done already (acked, dead-lettered, expired, skipped).</summary>
    Done,
    /// <summary>Another delivery came after it, or it is from before a seek or a restart.</summary>
    Stale,
}
