namespace Granary.Client.Internal;

/// <summary>Told of each <see cref="PendingSend"/>'s outcome (the producer: its metrics and its count of sends outstanding).</summary>
internal interface ISendOutcomeObserver
{
    /// <summary>The send is about to complete: null when confirmed, else its error (an <see cref="OperationCanceledException"/> when cancelled).</summary>
    void Settling(Exception? error);

    /// <summary>The send's task is complete.</summary>
    void Completed();
}
