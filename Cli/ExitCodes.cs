namespace Granary.Cli;

/// <summary>What <c>granary</c> exits with, so that scripts can tell failures apart.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The silo failed the request (HTTP 5xx other than 503), or another unexpected error.</summary>
    public const int ServerError = 1;

    /// <summary>The command line is wrong (unknown command or option, missing argument).</summary>
    public const int Usage = 2;

    /// <summary>The topic or group does not exist.</summary>
    public const int NotFound = 3;

    /// <summary>It exists already (creating a topic that exists).</summary>
    public const int Conflict = 4;

    /// <summary>The silo refused a value (invalid name, out of range, a setting fixed at creation).</summary>
    public const int InvalidArgument = 5;

    /// <summary>No admin API answered at the URL.</summary>
    public const int Unreachable = 6;

    /// <summary>No credential, or one the silo does not accept (unknown, malformed or revoked API key): HTTP 401.</summary>
    public const int Unauthorized = 7;

    /// <summary>The cluster cannot serve it right now (not enough replicas, partition moving); retry.</summary>
    public const int Unavailable = 8;

    /// <summary>The silo knows who is asking, and that principal may not do this (HTTP 403): a rule denies it, or none allows it.</summary>
    public const int Forbidden = 9;
}
