namespace Granary.Storage;

/// <summary>One remembered batch; while its first append is in flight, retries wait for that append's outcome.</summary>
internal sealed class ProducerBatch<TResult>(ProducerBatchInfo info, bool pending)
{
    private readonly TaskCompletionSource<TResult>? _result = pending ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;

    public ProducerBatchInfo Info { get; } = info;

    /// <summary>The first append's result, while this activation knows it; null for batches loaded from disk.</summary>
    public Task<TResult>? Result => _result?.Task;

    public void Complete(TResult result) => _result?.TrySetResult(result);

    public void Fail(Exception error)
    {
        if (_result is null) return;
        _result.TrySetException(error);
        _result.Task.Exception?.Handle(_ => true); // observed: nobody may be retrying this batch
    }
}
