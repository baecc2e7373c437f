namespace Granary.Client;

/// <summary>
/// An ack queued with <see cref="ReceivedMessage.AckAsync"/> that the broker refused or that could not be sent: see
/// <see cref="GranaryConsumer.AckFailed"/>.
/// </summary>
public sealed class AckFailedEventArgs(ReceivedMessage message, GranaryException error) : EventArgs
{
    /// <summary>The message whose ack failed.</summary>
    public ReceivedMessage Message { get; } = message;

    /// <summary>
    /// Why: <see cref="GranaryErrorCode.StaleDelivery"/> when the message was delivered again since this delivery's lease
    /// ended (it may be handled again by its new holder); a retriable code when the call failed (the ack may or may
    /// not have been taken; if not, the message comes again when its lease ends).
    /// </summary>
    public GranaryException Error { get; } = error;
}
