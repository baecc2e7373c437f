using Granary.Client.Internal;
using Granary.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Granary.Client;

/// <summary>
/// Registers hosted consumers whose options come from configuration, as <c>AddGranaryClient(IConfiguration)</c>
/// does for the client: the section's <c>Consumer</c> child binds <see cref="ConsumerOptions"/>, its <c>Handler</c>
/// child <see cref="HandlerOptions"/> (a batch consumer: <c>Batch</c>, <see cref="BatchHandlerOptions"/>), for example
/// <c>"Granary:Consumers:Billing": { "Consumer": { "MaxPrefetch": 64 }, "Handler": { "MaxConcurrency": 4 } }</c>.
/// The options are named options of this registration, checked when the host starts (<c>ValidateOnStart</c>): a
/// value out of range fails the start with an <see cref="OptionsValidationException"/> naming it. Needs
/// <c>AddGranaryClient</c>.
/// </summary>
public static class ConfiguredConsumerServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="GranaryServiceCollectionExtensions.AddGranaryConsumer{THandler}(IServiceCollection, string, string, Action{ConsumerOptions}?, Action{HandlerOptions}?)"/>
    /// with its options bound from <paramref name="configuration"/>, then <paramref name="configure"/> and
    /// <paramref name="handler"/> applied (for what configuration cannot hold, such as an idempotency store).
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> for a bad topic or group name.</exception>
    public static IServiceCollection AddGranaryConsumer<THandler>(this IServiceCollection services, string topic, string group,
        IConfiguration configuration, Action<ConsumerOptions>? configure = null, Action<HandlerOptions>? handler = null)
        where THandler : class, IMessageHandler
    {
        string name = Register<THandler, HandlerOptions>(services, topic, group, configuration, configure, "Handler", handler);
        services.TryAddScoped<THandler>();
        services.TryAddSingleton<HostedConsumerStatuses>();
        services.AddSingleton<IHostedService>(sp => new GranaryConsumerService<THandler>(sp,
            new ConsumerRegistration(topic, group, Get<ConsumerOptions>(sp, name), Get<HandlerOptions>(sp, name))));
        return services;
    }

    /// <summary>
    /// <see cref="TypedConsumerServiceCollectionExtensions.AddGranaryConsumer{T, THandler}(IServiceCollection, string, string, Action{ConsumerOptions}?, Action{HandlerOptions}?)"/>
    /// with its options bound from <paramref name="configuration"/>, then <paramref name="configure"/> and
    /// <paramref name="handler"/> applied.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> for a bad topic or group name.</exception>
    public static IServiceCollection AddGranaryConsumer<T, THandler>(this IServiceCollection services, string topic, string group,
        IConfiguration configuration, Action<ConsumerOptions>? configure = null, Action<HandlerOptions>? handler = null)
        where THandler : class, IMessageHandler<T>
    {
        string name = Register<THandler, HandlerOptions>(services, topic, group, configuration, configure, "Handler", handler);
        services.TryAddScoped<THandler>();
        services.AddSingleton<IHostedService>(sp => new TypedConsumerService<T, THandler>(sp,
            new TypedConsumerRegistration(topic, group, Get<ConsumerOptions>(sp, name), Get<HandlerOptions>(sp, name), Batch: null)));
        return services;
    }

    /// <summary>
    /// <see cref="TypedConsumerServiceCollectionExtensions.AddGranaryBatchConsumer{T, THandler}(IServiceCollection, string, string, Action{ConsumerOptions}?, Action{BatchHandlerOptions}?)"/>
    /// with its options bound from <paramref name="configuration"/> (<c>Consumer</c> and <c>Batch</c>), then
    /// <paramref name="configure"/> and <paramref name="batch"/> applied.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> for a bad topic or group name.</exception>
    public static IServiceCollection AddGranaryBatchConsumer<T, THandler>(this IServiceCollection services, string topic, string group,
        IConfiguration configuration, Action<ConsumerOptions>? configure = null, Action<BatchHandlerOptions>? batch = null)
        where THandler : class, IBatchMessageHandler<T>
    {
        string name = Register<THandler, BatchHandlerOptions>(services, topic, group, configuration, configure, "Batch", batch);
        services.TryAddScoped<THandler>();
        services.AddSingleton<IHostedService>(sp => new TypedConsumerService<T, THandler>(sp,
            new TypedConsumerRegistration(topic, group, Get<ConsumerOptions>(sp, name), Handler: null, Get<BatchHandlerOptions>(sp, name))));
        return services;
    }

    /// <summary>Binds this registration's named options and has them checked at start; returns their name.</summary>
    private static string Register<THandler, THandlerOptions>(IServiceCollection services, string topic, string group, IConfiguration configuration,
        Action<ConsumerOptions>? configure, string handlerSection, Action<THandlerOptions>? handler)
        where THandlerOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        // One name per registration: the same handler type may serve several topics and groups.
        string name = $"{typeof(THandler).FullName}:{topic}/{group}";
        var consumer = services.AddOptions<ConsumerOptions>(name).Bind(configuration.GetSection("Consumer")).ValidateOnStart();
        if (configure is not null) consumer.Configure(configure);
        var handlerOptions = services.AddOptions<THandlerOptions>(name).Bind(configuration.GetSection(handlerSection)).ValidateOnStart();
        if (handler is not null) handlerOptions.Configure(handler);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsumerOptions>, ConsumerSettingsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HandlerOptions>, ConsumerSettingsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BatchHandlerOptions>, ConsumerSettingsValidator>());
        return name;
    }

    private static TOptions Get<TOptions>(IServiceProvider services, string name) =>
        services.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name);
}
