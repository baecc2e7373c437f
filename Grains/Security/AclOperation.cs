namespace Granary.Grains.Security;

/// <summary>What a principal does to a resource.</summary>
public enum AclOperation
{
    /// <summary>Append messages to a topic.</summary>
    Produce,

    /// <summary>Read a topic (through a group or by offset), or consume through a group.</summary>
    Consume,

    /// <summary>See a resource's configuration and state. Implied by every other operation allowed on it.</summary>
    Describe,

    /// <summary>Create a topic.</summary>
    Create,

    /// <summary>Change a topic (configuration, partitions) or a group (seek, redrive).</summary>
    Alter,

    /// <summary>Delete a topic or a group.</summary>
    Delete,

    /// <summary>Administer the cluster: keys, rules, the audit log.</summary>
    Admin,

    /// <summary>In a rule: every operation.</summary>
    All,
}
