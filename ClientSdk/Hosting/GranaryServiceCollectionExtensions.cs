using Granary.Client.Internal;
using Granary.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Granary.Client;

/// <summary>Registers a <see cref="GranaryClient"/> and hosted consumers in dependency injection.</summary>
public static class GranaryServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="GranaryClient"/> that connects with the options <paramref name="configure"/> sets
    /// when the host starts (a failed connection fails the start), and is disposed with the container. Resolving
    /// <see cref="GranaryClient"/> before the host started connects then, synchronously. The first registration of a
    /// client wins.
    /// </summary>
    public static IServiceCollection AddGranaryClient(this IServiceCollection services, Action<GranaryClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<GranaryClientOptions>().Configure(configure);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GranaryClientOptions>>().Value;
            return new GranaryClientConnection(() => GranaryClient.ConnectAsync(options));
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<GranaryClientConnection>().ConnectAsync(CancellationToken.None).GetAwaiter().GetResult());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GranaryClientConnector>());
        return services;
    }

    /// <summary>
    /// Registers a client the application already has (for example <c>GranaryClient.Create(clusterClient)</c>) for
    /// hosted consumers and injection. The container does not dispose it. The first registration of a client wins.
    /// </summary>
    public static IServiceCollection AddGranaryClient(this IServiceCollection services, GranaryClient client)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(client);
        services.TryAddSingleton(client);
        services.TryAddSingleton(new GranaryClientConnection(() => Task.FromResult(client)));
        return services;
    }

    /// <summary>
    /// Adds a hosted consumer: when the host starts it joins <paramref name="group"/> on <paramref name="topic"/> and
    /// runs <typeparamref name="THandler"/> on every message with
    /// <see cref="GranaryConsumer.RunAsync(Func{ReceivedMessage, CancellationToken, Task}, HandlerOptions?, CancellationToken)"/>
    /// (parallel up to <see cref="HandlerOptions.MaxConcurrency"/>, in order per key); when the host stops, running
    /// handlers see their token cancelled and are awaited, and the consumer leaves the group. Needs
    /// <c>AddGranaryClient</c>.
    /// </summary>
    /// <remarks>
    /// <typeparamref name="THandler"/> is registered as scoped (unless already registered) and resolved from a new
    /// scope for each message, as ASP.NET Core does per request: it may depend on scoped services such as a
    /// <c>DbContext</c>, which two messages handled side by side must not share. Register it as a singleton before
    /// this call to reuse one instance (it must then be thread-safe). Call once per topic and group; the same
    /// handler type may serve several.
    /// </remarks>
    /// <exception cref="GranaryException"><see cref="ErrorCode.InvalidName"/> for a bad topic or group name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range (checked here, at registration).</exception>
    public static IServiceCollection AddGranaryConsumer<THandler>(this IServiceCollection services, string topic, string group,
        Action<ConsumerOptions>? configure = null, Action<HandlerOptions>? handler = null)
        where THandler : class, IMessageHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        var consumerOptions = new ConsumerOptions();
        configure?.Invoke(consumerOptions);
        consumerOptions.Validate();
        var handlerOptions = new HandlerOptions();
        handler?.Invoke(handlerOptions);
        handlerOptions.Validate();
        var registration = new ConsumerRegistration(topic, group, consumerOptions, handlerOptions);
        services.TryAddScoped<THandler>();
        // Not AddHostedService: it skips a second registration of the same service type (one handler, two topics).
        services.AddSingleton<IHostedService>(sp => new GranaryConsumerService<THandler>(sp, registration));
        return services;
    }
}
