using Granary.Storage;

namespace Granary.Grains.Hosting;

/// <summary>
/// Recognizes a full disk behind a failed grain-state write, so that grains answer <see cref="GranaryErrorCode.DiskFull"/>
/// rather than the generic error the caller would make of Orleans' wrapper.
/// </summary>
/// <remarks>
/// Orleans wraps a storage provider's exception in an <c>OrleansException</c> whose message embeds the inner
/// exception with its stack trace; a caller translating that by its type saw "the cluster is not reachable".
/// </remarks>
internal static class DiskFullErrors
{
    /// <summary>True when <paramref name="exception"/> or one of its inner exceptions reports ENOSPC or EDQUOT.</summary>
    public static bool IsDiskFull(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
            if (e is IOException io && FileSync.IsDiskFull(io)) return true;
        return false;
    }

    /// <summary>The typed error for a state write of <paramref name="what"/> that failed on a full disk.</summary>
    public static GranaryException StateWriteFailed(string what) =>
        new(GranaryErrorCode.DiskFull, $"The disk holding the state of {what} is full; nothing was changed. Free space and retry.");
}
