namespace Granary.Client;

/// <summary>The answer of <see cref="IIdempotencyStore.TryBeginAsync"/>.</summary>
public enum IdempotencyStatus
{
    /// <summary>The id was unknown (or its claim had run out): the caller now holds the claim and runs the handler.</summary>
    Started = 0,

    /// <summary>A handler finished this id already: the message is a duplicate; acknowledge it without handling.</summary>
    Completed = 1,

    /// <summary>Another handler holds an unexpired claim on this id right now: try again later.</summary>
    InProgress = 2,
}
