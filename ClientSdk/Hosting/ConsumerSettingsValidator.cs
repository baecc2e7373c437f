using Microsoft.Extensions.Options;

namespace Granary.Client.Internal;

/// <summary>
/// Checks the options of a hosted consumer bound from configuration when the host starts (<c>ValidateOnStart</c>),
/// with the rules their own <c>Validate()</c> applies to options given in code, and a message naming the
/// registration and the setting.
/// </summary>
internal sealed class ConsumerSettingsValidator : IValidateOptions<ConsumerOptions>, IValidateOptions<HandlerOptions>, IValidateOptions<BatchHandlerOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsumerOptions options) => Check(name, nameof(ConsumerOptions), options.Validate);

    public ValidateOptionsResult Validate(string? name, HandlerOptions options) => Check(name, nameof(HandlerOptions), options.Validate);

    public ValidateOptionsResult Validate(string? name, BatchHandlerOptions options) => Check(name, nameof(BatchHandlerOptions), options.Validate);

    private static ValidateOptionsResult Check(string? name, string type, Action validate)
    {
        try
        {
            validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"{type} of the hosted consumer {name}: {e.Message}");
        }
    }
}
