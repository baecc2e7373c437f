namespace Granary.Client;

/// <summary>How the nack delay of a failed handler grows with the message's delivery attempts.</summary>
public enum HandlerRetryBackoff
{
    /// <summary>
    /// The default: the first retry waits about <c>RetryDelay</c>, each later one about twice the one before, up to
    /// <c>MaxRetryDelay</c>; each delay is drawn between half and all of that (jitter), so that messages that failed
    /// together (a database down) do not all come back at the same moment.
    /// </summary>
    Exponential,

    /// <summary>Every retry waits <c>RetryDelay</c> exactly.</summary>
    Constant,
}
