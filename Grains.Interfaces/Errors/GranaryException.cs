namespace Granary.Client;

/// <summary>
/// The one error type of Granary, on the client and across grain calls: an <see cref="ErrorCode"/> and whether
/// retrying the same operation can help.
/// </summary>
[GenerateSerializer, Alias("granary.GranaryException")]
public class GranaryException : Exception
{
    /// <summary>Creates an exception with code <see cref="ErrorCode.InvalidArgument"/> (for serializers).</summary>
    public GranaryException() => Code = ErrorCode.InvalidArgument;

    /// <summary>Creates an exception with a message.</summary>
    public GranaryException(string message) : base(message) => Code = ErrorCode.InvalidArgument;

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public GranaryException(string message, Exception innerException) : base(message, innerException) => Code = ErrorCode.InvalidArgument;

    /// <summary>Creates an exception with a code and a message.</summary>
    public GranaryException(ErrorCode code, string message, Exception? innerException = null) : base(message, innerException) => Code = code;

    /// <summary>What went wrong.</summary>
    [Id(0)]
    public ErrorCode Code { get; private set; }

    /// <summary>True when the same operation may succeed if retried later.</summary>
    public bool IsRetriable => Code is ErrorCode.PartitionUnavailable or ErrorCode.DiskFull or ErrorCode.Timeout or ErrorCode.NotAMember
        or ErrorCode.QueueFull or ErrorCode.OutOfOrderSequence or ErrorCode.NotEnoughReplicas;
}
