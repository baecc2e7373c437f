using Microsoft.Extensions.Options;

namespace Granary.Client.Internal;

/// <summary>
/// Checks <see cref="GranaryClientOptions"/> once, when the host starts (<c>ValidateOnStart</c>), with a message
/// naming the setting: a host with a wrong setting does not start, instead of failing at its first connect.
/// </summary>
internal sealed class GranaryClientOptionsValidator : IValidateOptions<GranaryClientOptions>
{
    public ValidateOptionsResult Validate(string? name, GranaryClientOptions options)
    {
        try
        {
            // The same rules ConnectAsync applies to options given directly.
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"GranaryClientOptions: {e.Message}");
        }
    }
}
