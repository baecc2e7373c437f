using System.Text.RegularExpressions;

namespace Granary.Grains;

/// <summary>
/// The naming rule for topics and consumer groups: <c>[a-zA-Z0-9._-]{1,200}</c>, and not made of dots only (<c>.</c>
/// and <c>..</c> name directories of their own on every file system).
/// </summary>
public static partial class Names
{
    /// <summary>The longest valid name, in characters.</summary>
    public const int MaxLength = 200;

    /// <summary>True when <paramref name="name"/> is a valid topic or group name.</summary>
    public static bool IsValid(string? name) => name is not null && NamePattern().IsMatch(name) && name.AsSpan().ContainsAnyExcept('.');

    /// <summary>Throws <see cref="GranaryException"/> with <see cref="GranaryErrorCode.InvalidName"/> when the name is invalid.</summary>
    public static void Validate(string? name, string what)
    {
        if (!IsValid(name))
            throw new GranaryException(GranaryErrorCode.InvalidName,
                $"Invalid {what} name '{EchoedInput.Of(name)}': use 1 to {MaxLength} of the characters a-z, A-Z, 0-9, '.', '_' and '-', not only dots.");
    }

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
