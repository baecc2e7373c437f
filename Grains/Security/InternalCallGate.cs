using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Security;

/// <summary>
/// Incoming call filter on silos, the one place where grain calls are checked:
/// <list type="bullet">
/// <item>A call to a silo-internal method of a Granary grain (anything outside <see cref="ClientSurface"/>) is refused
/// with <see cref="GranaryErrorCode.NotAllowed"/> unless it carries the cluster's <see cref="InternalCallSecret"/>, which only
/// silos stamp (<see cref="InternalCallStamp"/>). The sender id in the message is not used: a client can write any
/// value there.</item>
/// <item>With security on (<see cref="GranarySecurityOptions.Enabled"/>), a client's call of a surface method must carry
/// a credential (<see cref="SecurityContextKeys.Credential"/>: an API key, the bootstrap key or a session token), else
/// <see cref="GranaryErrorCode.Unauthenticated"/>; its principal must be allowed what the method needs
/// (<see cref="SurfacePermission"/>), else <see cref="GranaryErrorCode.NotAllowed"/>. A silo's call is checked as the principal
/// it names in <see cref="SecurityContextKeys.OnBehalfOf"/> (the admin API's calls), and passes when it names none.</item>
/// <item>Creates, alters, deletes, seeks and redrives that succeed are written to the <see cref="AuditLog"/>.</item>
/// </list>
/// The stamp, the credential and the on-behalf-of name are removed before the grain runs, so that the grain's own calls
/// are stamped afresh and nothing forwards them.
/// </summary>
internal sealed partial class InternalCallGate(
    InternalCallSecret secret,
    SecurityCatalog catalog,
    CredentialAuthenticator credentials,
    AuditLog audit,
    IOptions<GranarySecurityOptions> options,
    ILogger<InternalCallGate> logger) : IIncomingGrainCallFilter
{
    /// <summary>The audit log's principal for changes silos make on their own account.</summary>
    internal const string SiloPrincipal = "silo";

    // Grain keys rarely change but are parsed on every call otherwise; bounded against a client inventing keys.
    private const int MaxCachedKeys = 100_000;

    // Grain extensions a Granary grain serves without a stamp: a caller's cancellation reaches the grain through the
    // cancellation extension.
    private static readonly HashSet<string> OpenOrleansInterfaces = new(StringComparer.Ordinal)
    {
        "Orleans.Runtime.ICancellationSourcesExtension",
    };

    private readonly bool _enabled = options.Value.Enabled;
    private readonly ConcurrentDictionary<GrainId, GrainResources> _resources = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        var method = context.InterfaceMethod;
        if (method.DeclaringType is not { } declaring) return context.Invoke();
        bool gated = ClientSurface.IsGated(declaring);
        // Orleans' grain extensions on a Granary grain (IGrainManagementExtension's DeactivateOnIdle and MigrateOnIdle,
        // ...) are silo-internal too: the target decides, not the declaring interface. Orleans' other interfaces a grain
        // serves (its timers' and reminders' callbacks) come from its own silo's runtime without a stamp and stay open.
        bool extensionOnGranaryGrain = !gated && typeof(IGrainExtension).IsAssignableFrom(declaring)
            && context.Grain?.GetType().Assembly == typeof(InternalCallGate).Assembly
            && !OpenOrleansInterfaces.Contains(declaring.FullName!);
        if (!gated && !extensionOnGranaryGrain) return context.Invoke();
        bool fromSilo = secret.Matches(RequestContext.Get(InternalCallStamp.Key));
        object? credential = RequestContext.Get(SecurityContextKeys.Credential);
        object? onBehalfOf = RequestContext.Get(SecurityContextKeys.OnBehalfOf);
        RequestContext.Remove(InternalCallStamp.Key);
        if (credential is not null) RequestContext.Remove(SecurityContextKeys.Credential);
        if (onBehalfOf is not null) RequestContext.Remove(SecurityContextKeys.OnBehalfOf);
        if (extensionOnGranaryGrain)
        {
            if (fromSilo) return context.Invoke();
            LogRefused(logger, context.InterfaceName, context.MethodName, context.TargetId.ToString());
            throw new GranaryException(GranaryErrorCode.NotAllowed, $"{declaring.Name}.{method.Name} on a Granary grain is internal to the cluster's silos; clients may not call it.");
        }

        var permission = ClientSurface.PermissionOf(declaring, method.Name);
        if (permission is null)
        {
            // A silo-internal method (or an interface without a table): silos only.
            if (fromSilo || !ClientSurface.IsGranaryInterface(declaring)) return context.Invoke();
            LogRefused(logger, context.InterfaceName, context.MethodName, context.TargetId.ToString());
            throw new GranaryException(GranaryErrorCode.NotAllowed,
                $"{declaring.Name}.{method.Name} is internal to the cluster's silos; clients may not call it.");
        }

        // Who the call is for: null when nothing is checked (security off, or a silo on its own account).
        if (!_enabled || (permission.OpenToAnonymous && !fromSilo)) return Proceed(context, permission, null, fromSilo, onBehalfOf);
        if (fromSilo) return Proceed(context, permission, OnBehalfOfPrincipal(onBehalfOf), fromSilo, onBehalfOf);
        var check = credentials.AuthenticateAsync(credential as string);
        if (check.IsCompletedSuccessfully) return Proceed(context, permission, Accept(check.Result, declaring, method.Name), fromSilo, onBehalfOf);
        return AuthenticateThenProceedAsync(context, permission, check, declaring, method.Name);
    }

    // A credential not answered from memory (a JSON web token seen for the first time).
    private async Task AuthenticateThenProceedAsync(IIncomingGrainCallContext context, SurfacePermission permission, ValueTask<CredentialCheck> check,
        Type declaring, string method) =>
        await Proceed(context, permission, Accept(await check, declaring, method), fromSilo: false, onBehalfOf: null);

    private Task Proceed(IIncomingGrainCallContext context, SurfacePermission permission, Principal? principal, bool fromSilo, object? onBehalfOf)
    {
        var declaring = context.InterfaceMethod.DeclaringType!;
        if (principal is not null) Authorize(principal, permission, context, declaring, context.InterfaceMethod.Name);
        if (permission.AuditAction is null && !(permission.FiltersTopics && principal is not null)) return context.Invoke();
        string auditPrincipal = principal?.Name
            ?? (fromSilo ? OnBehalfOf.TryDecode(onBehalfOf)?.Name ?? (_enabled ? SiloPrincipal : Principal.Anonymous.Name) : Principal.Anonymous.Name);
        return InvokeThenAsync(context, permission, principal, auditPrincipal);
    }

    private async Task InvokeThenAsync(IIncomingGrainCallContext context, SurfacePermission permission, Principal? principal, string auditPrincipal)
    {
        await context.Invoke();
        if (permission.FiltersTopics && principal is not null && context.Result is string[] topics)
        {
            context.Result = Array.FindAll(topics, topic => catalog.IsAllowed(principal, ResourceType.Topic, topic, AclOperation.Describe));
        }
        if (permission.AuditAction is { } action && AuditDetail(context, action) is var (target, detail, happened) && happened)
            await audit.RecordAsync(auditPrincipal, action, target, detail);
    }

    private static Principal? OnBehalfOfPrincipal(object? onBehalfOf)
    {
        if (onBehalfOf is null) return null;
        return OnBehalfOf.TryDecode(onBehalfOf)
            ?? throw new GranaryException(GranaryErrorCode.Unauthenticated, "The call names a principal to act for that is not a valid principal.");
    }

    private Principal Accept(CredentialCheck check, Type declaring, string method)
    {
        if (check.Principal is { } principal) return principal;
        LogUnauthenticated(logger, check.Kind, declaring.Name, method);
        throw new GranaryException(GranaryErrorCode.Unauthenticated, check.Failure
            ?? $"Security is on: {declaring.Name}.{method} needs a credential (set GranaryClientOptions.ApiKey, an access token, or a client certificate).");
    }

    private void Authorize(Principal principal, SurfacePermission permission, IIncomingGrainCallContext context, Type declaring, string method)
    {
        if (permission.Cluster is { } clusterOperation && !catalog.IsAllowed(principal, ResourceType.Cluster, AclRule.Any, clusterOperation))
            throw Refused(principal, clusterOperation, "the cluster", declaring, method);
        if (permission.Topic is null && permission.Group is null) return;
        var resources = Resources(context.TargetId, declaring);
        if (permission.Topic is { } topicOperation && !catalog.IsAllowed(principal, ResourceType.Topic, resources.Topic, topicOperation))
            throw Refused(principal, topicOperation, $"topic '{resources.Topic}'", declaring, method);
        if (permission.Group is { } groupOperation && !catalog.IsAllowed(principal, ResourceType.Group, resources.Group!, groupOperation))
            throw Refused(principal, groupOperation, $"group '{resources.Group}'", declaring, method);
        // A member that names the group's dead-letter topic has the silo create it and write to it: the member must be
        // allowed both itself, or it could have the silo write into (or create) any topic. The default name,
        // {topic}.{group}.dlq, is the group's own and comes with Consume on the group.
        if (declaring == typeof(IConsumerGroupGrain) && method == nameof(IConsumerGroupGrain.JoinAsync)
            && context.Request.GetArgument(1) is GroupSettings { DeadLetterTopic: { } deadLetters })
        {
            foreach (var operation in (ReadOnlySpan<AclOperation>)[AclOperation.Produce, AclOperation.Create])
            {
                if (!catalog.IsAllowed(principal, ResourceType.Topic, deadLetters, operation))
                    throw Refused(principal, operation, $"dead-letter topic '{deadLetters}'", declaring, method);
            }
        }
    }

    private GranaryException Refused(Principal principal, AclOperation operation, string resource, Type declaring, string method)
    {
        string what = operation.ToString().ToLowerInvariant();
        LogNotAllowed(logger, principal.Name, what, resource, declaring.Name, method);
        return new GranaryException(GranaryErrorCode.NotAllowed, $"Principal '{principal.Name}' may not {what} {resource} ({declaring.Name}.{method}).");
    }

    /// <summary>
    /// The topic and group (<c>{topic}/{group}</c>) a grain's key names. Keys are parsed strictly, exactly as Granary
    /// makes them (a topic, a group, a partition number written without sign, padding or leading zeros): a key of another
    /// shape would be served by a grain that reads it otherwise (a cursor ignores parts after the third), so it could
    /// reach one group while being checked as another. Such keys are refused.
    /// </summary>
    private GrainResources Resources(GrainId grain, Type declaring)
    {
        if (_resources.TryGetValue(grain, out var known)) return known;
        string key = grain.Key.ToString()!;
        string[] parts = key.Split('/');
        GrainResources resources;
        if (declaring == typeof(ITopicGrain)) resources = parts.Length == 1 && Names.IsValid(key) ? new(key, null) : throw BadKey(key);
        else if (declaring == typeof(IPartitionGrain))
            resources = parts.Length == 2 && Names.IsValid(parts[0]) && IsPartitionNumber(parts[1]) ? new(parts[0], null) : throw BadKey(key);
        else if (declaring == typeof(IConsumerGroupGrain))
            resources = parts.Length == 2 && Names.IsValid(parts[0]) && Names.IsValid(parts[1]) ? new(parts[0], key) : throw BadKey(key);
        else if (declaring == typeof(IPartitionCursorGrain))
        {
            resources = parts.Length == 3 && Names.IsValid(parts[0]) && Names.IsValid(parts[1]) && IsPartitionNumber(parts[2])
                ? new(parts[0], $"{parts[0]}/{parts[1]}") : throw BadKey(key);
        }
        else throw new InvalidOperationException($"{declaring.Name} names no topic by its key.");
        if (_resources.Count >= MaxCachedKeys) _resources.Clear();
        _resources.TryAdd(grain, resources);
        return resources;
    }

    private static bool IsPartitionNumber(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int partition)
        && partition.ToString(System.Globalization.CultureInfo.InvariantCulture) == text;

    private static GranaryException BadKey(string key) =>
        new(GranaryErrorCode.InvalidName, $"'{(key.Length <= 100 ? key : key[..100] + "...")}' is not a key Granary makes for this grain ({{topic}}, {{topic}}/{{partition}}, {{topic}}/{{group}} or {{topic}}/{{group}}/{{partition}}).");

    /// <summary>The audit event's target and detail, and whether the call changed anything.</summary>
    private static (string Target, string? Detail, bool Happened) AuditDetail(IIncomingGrainCallContext context, string action)
    {
        string key = context.TargetId.Key.ToString()!;
        var request = context.Request;
        return action switch
        {
            "topic.create" => (key, request.GetArgument(0) is TopicConfig config ? $"partitions={config.Partitions}" : null, true),
            "topic.add-partitions" => (key, $"partitions={request.GetArgument(0)}", true),
            // AlterIfUnchanged returns null when another change came first: nothing changed.
            "topic.alter" => (key, context.Result is TopicConfig applied ? Describe(applied) : null, context.Result is not null),
            "group.seek" => (key, request.GetArgument(0)?.ToString(), true),
            "group.redrive" => (key, $"from={request.GetArgument(0)} to={request.GetArgument(1)} redriven={context.Result}", true),
            _ => (key, null, true),
        };
    }

    private static string Describe(TopicConfig config) =>
        $"partitions={config.Partitions} maxMessageBytes={config.MaxMessageBytes} retentionTime={config.RetentionTime?.ToString() ?? "none"} retentionBytes={config.RetentionBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}";

    private sealed record GrainResources(string Topic, string? Group);

    [LoggerMessage(1701, LogLevel.Warning, "Refused a client's call to internal method {Interface}.{Method} of {Grain}")]
    private static partial void LogRefused(ILogger logger, string @interface, string method, string grain);

    [LoggerMessage(1730, LogLevel.Warning, "Refused an unauthenticated call to {Interface}.{Method} (credential: {Kind})")]
    private static partial void LogUnauthenticated(ILogger logger, string kind, string @interface, string method);

    [LoggerMessage(1731, LogLevel.Warning, "Refused: principal {Principal} may not {Operation} {Resource} ({Interface}.{Method})")]
    private static partial void LogNotAllowed(ILogger logger, string principal, string operation, string resource, string @interface, string method);
}
