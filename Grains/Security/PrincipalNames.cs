namespace Granary.Grains.Security;

/// <summary>What a principal name may be: what rules and keys name, and what a certificate's common name maps to.</summary>
public static class PrincipalNames
{
    /// <summary>The longest principal name.</summary>
    public const int MaxLength = 128;

    /// <summary>The rule, for error messages.</summary>
    public const string Rule = "1 to 128 characters: letters, digits, '.', '_', '-', '@', ':'";

    /// <summary>True when <paramref name="name"/> is a usable principal name ("*" is not: it is the wildcard of rules).</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength) return false;
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@' or ':')) return false;
        }
        return true;
    }
}
