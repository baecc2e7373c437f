namespace Granary.Grains.Security;

/// <summary>How a rule's resource name matches.</summary>
public enum AclPatternType
{
    /// <summary>The resource's name is exactly the rule's (<c>*</c> matches every name).</summary>
    Exact,

    /// <summary>The resource's name starts with the rule's (ordinal: names are case-sensitive).</summary>
    Prefix,
}
