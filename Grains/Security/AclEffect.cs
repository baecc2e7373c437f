namespace Granary.Grains.Security;

/// <summary>Whether a rule allows or denies. A matching deny wins over any allow.</summary>
public enum AclEffect
{
    /// <summary>Allows the operation.</summary>
    Allow,

    /// <summary>Denies the operation, whatever allows it.</summary>
    Deny,
}
