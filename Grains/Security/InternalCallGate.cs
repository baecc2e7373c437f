using Microsoft.Extensions.Logging;

namespace Granary.Grains.Security;

/// <summary>
/// Incoming call filter on silos: a call to a silo-internal method of a Granary grain (anything outside
/// <see cref="ClientSurface"/>) is refused with <see cref="ErrorCode.NotAllowed"/> unless it carries the cluster's
/// <see cref="InternalCallSecret"/>, which only silos stamp (<see cref="InternalCallStamp"/>). The sender id in the
/// message is not used: a client can write any value there. The secret is removed before the grain runs, so the
/// grain's own calls are stamped afresh and nothing forwards it.
/// </summary>
internal sealed partial class InternalCallGate(InternalCallSecret secret, ILogger<InternalCallGate> logger) : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        var method = context.InterfaceMethod;
        if (method.DeclaringType is not { } declaring || !ClientSurface.IsGranaryInterface(declaring)) return context.Invoke();
        bool fromSilo = secret.Matches(RequestContext.Get(InternalCallStamp.Key));
        RequestContext.Remove(InternalCallStamp.Key);
        if (fromSilo || ClientSurface.IsClientFacing(declaring, method.Name)) return context.Invoke();
        LogRefused(logger, context.InterfaceName, context.MethodName, context.TargetId.ToString());
        throw new GranaryException(ErrorCode.NotAllowed,
            $"{declaring.Name}.{method.Name} is internal to the cluster's silos; clients may not call it.");
    }

    [LoggerMessage(1701, LogLevel.Warning, "Refused a client's call to internal method {Interface}.{Method} of {Grain}")]
    private static partial void LogRefused(ILogger logger, string @interface, string method, string grain);
}
