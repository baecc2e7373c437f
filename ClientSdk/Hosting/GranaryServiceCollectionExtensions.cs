using Granary.Client.Internal;
using Granary.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Client;

/// <summary>Registers a <see cref="GranaryClient"/> and hosted consumers in dependency injection.</summary>
public static class GranaryServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="GranaryClient"/> that connects with the options <paramref name="configure"/> sets
    /// when the host starts (a failed connection fails the start), and is disposed with the container. The options
    /// are checked when the host starts (<c>ValidateOnStart</c>): a wrong setting fails the start with an
    /// <see cref="OptionsValidationException"/> naming it. Without <see cref="GranaryClientOptions.LoggerFactory"/>
    /// the client logs through the host's logger factory. Resolve <see cref="GranaryClient"/> once the host has
    /// started; code that may run earlier awaits <see cref="IGranaryClientProvider.GetClientAsync"/> (nothing blocks a
    /// thread on the connection). The first registration of a client wins.
    /// </summary>
    public static IServiceCollection AddGranaryClient(this IServiceCollection services, Action<GranaryClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddConnectedClient(services).Configure(configure);
        return services;
    }

    /// <summary>
    /// Adds a singleton <see cref="GranaryClient"/> as <see cref="AddGranaryClient(IServiceCollection, Action{GranaryClientOptions})"/>
    /// does, with <see cref="GranaryClientOptions"/> bound from <paramref name="configuration"/> (for example
    /// <c>builder.Configuration.GetSection("Granary:Client")</c>: <c>Gateways:0</c>, <c>ClusterId</c>,
    /// <c>ConnectTimeout</c>, <c>Tls:Enabled</c>, ...), and <paramref name="configure"/> applied after binding.
    /// </summary>
    public static IServiceCollection AddGranaryClient(this IServiceCollection services, IConfiguration configuration, Action<GranaryClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = AddConnectedClient(services).Bind(configuration);
        if (configure is not null) options.Configure(configure);
        return services;
    }

    private static OptionsBuilder<GranaryClientOptions> AddConnectedClient(IServiceCollection services)
    {
        var options = services.AddOptions<GranaryClientOptions>().ValidateOnStart();
        options.PostConfigure<IServiceProvider>((o, sp) => o.LoggerFactory ??= sp.GetService<ILoggerFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GranaryClientOptions>, GranaryClientOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<GranaryClientOptions>>().Value;
            return new GranaryClientConnection(() => GranaryClient.ConnectAsync(settings));
        });
        services.TryAddSingleton<IGranaryClientProvider>(sp => sp.GetRequiredService<GranaryClientConnection>());
        // No waiting here: the hosted connector (or an IGranaryClientProvider caller) has connected it before.
        services.TryAddSingleton(sp => sp.GetRequiredService<GranaryClientConnection>().Connected
            ?? throw new InvalidOperationException("The Granary client connects when the host starts: resolve GranaryClient after IHost.StartAsync, "
                + "or await IGranaryClientProvider.GetClientAsync() in code that may run earlier."));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GranaryClientConnector>());
        return options;
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
        var connection = new GranaryClientConnection(() => Task.FromResult(client));
        _ = connection.ConnectAsync(CancellationToken.None); // connected already: completes at once
        services.TryAddSingleton(connection);
        services.TryAddSingleton<IGranaryClientProvider>(connection);
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
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> for a bad topic or group name.</exception>
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
        services.TryAddSingleton<HostedConsumerStatuses>();
        // Not AddHostedService: it skips a second registration of the same service type (one handler, two topics).
        services.AddSingleton<IHostedService>(sp => new GranaryConsumerService<THandler>(sp, registration));
        return services;
    }
}
