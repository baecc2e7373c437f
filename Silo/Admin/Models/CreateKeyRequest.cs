using System.Text.Json.Serialization;

namespace Granary.Silo.Admin.Models;

/// <summary>An API key to make for a principal.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed class CreateKeyRequest
{
    /// <summary>Who the key authenticates as: 1 to 128 letters, digits, '.', '_', '-', '@', ':'.</summary>
    public required string Principal { get; init; }

    /// <summary>What the key is for (at most 256 characters), shown in listings.</summary>
    public string? Description { get; init; }
}
