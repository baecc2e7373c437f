namespace Granary.Client;

/// <summary>
/// The one error type of Granary, on the client and across grain calls: an <see cref="GranaryErrorCode"/> and whether
/// retrying the same operation can help.
/// </summary>
[GenerateSerializer, Alias("granary.GranaryException")]
public class GranaryException : Exception
{
    /// <summary>Creates an exception with code <see cref="GranaryErrorCode.InvalidArgument"/> (for serializers).</summary>
    public GranaryException() => Code = GranaryErrorCode.InvalidArgument;

    /// <summary>Creates an exception with a message.</summary>
    public GranaryException(string message) : base(message) => Code = GranaryErrorCode.InvalidArgument;

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public GranaryException(string message, Exception innerException) : base(message, innerException) => Code = GranaryErrorCode.InvalidArgument;

    /// <summary>Creates an exception with a code and a message.</summary>
    public GranaryException(GranaryErrorCode code, string message, Exception? innerException = null) : base(message, innerException) => Code = code;

    /// <summary>What went wrong.</summary>
    [Id(0)]
    public GranaryErrorCode Code { get; private set; }

    /// <summary>True when the same operation may succeed if retried later.</summary>
    public bool IsRetriable => Code is GranaryErrorCode.PartitionUnavailable or GranaryErrorCode.DiskFull or GranaryErrorCode.Timeout or GranaryErrorCode.NotAMember
        or GranaryErrorCode.QueueFull or GranaryErrorCode.OutOfOrderSequence or GranaryErrorCode.NotEnoughReplicas;
}
