namespace Granary.Grains.Security;

/// <summary>
/// Outgoing call filter on silos: every call a silo makes to a Granary grain (from a grain, a timer, or silo-side code
/// such as the admin API, all of which go through the silo's grain reference runtime) carries the cluster's
/// <see cref="InternalCallSecret"/> in its request context. Calls to anything else (client observers, Orleans' own
/// grains and system targets) never carry it, so it never reaches a client.
/// </summary>
internal sealed class InternalCallStamp(InternalCallSecret secret) : IOutgoingGrainCallFilter
{
    /// <summary>The request context key of the secret.</summary>
    public const string Key = "granary.internal-call";

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!ClientSurface.IsGated(context.InterfaceMethod.DeclaringType))
        {
            // A grain's context never holds the key (the gate removes it), but be certain it cannot leave the cluster.
            RequestContext.Remove(Key);
            await context.Invoke();
            return;
        }
        RequestContext.Set(Key, secret.Value);
        try
        {
            await context.Invoke();
        }
        finally
        {
            RequestContext.Remove(Key);
        }
    }
}
