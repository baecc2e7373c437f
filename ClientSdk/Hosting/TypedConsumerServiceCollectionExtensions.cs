using Granary.Client.Internal;
using Granary.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Granary.Client;

/// <summary>
/// Registers hosted consumers of typed messages. The payloads are read by the container's
/// <see cref="Serialization.IMessageSerializer{T}"/> (register one, for example
/// <c>services.AddSingleton&lt;IMessageSerializer&lt;Order&gt;&gt;(new JsonMessageSerializer&lt;Order&gt;(AppJson.Default.Order))</c>
/// for source-generated JSON), or by <see cref="Serialization.JsonMessageSerializer{T}"/> with web defaults when
/// there is none. Needs <c>AddGranaryClient</c>.
/// </summary>
public static class TypedConsumerServiceCollectionExtensions
{
    /// <summary>
    /// Adds a hosted consumer that joins <paramref name="group"/> on <paramref name="topic"/> when the host starts
    /// and runs <typeparamref name="THandler"/> on every message, deserialized to <typeparamref name="T"/>, as
    /// <c>AddGranaryConsumer&lt;THandler&gt;</c> does for bytes (parallel up to <see cref="HandlerOptions.MaxConcurrency"/>,
    /// in order per key, a scope per message, retries with exponential backoff). A message that cannot be
    /// deserialized is dead-lettered with reason <c>deserialization</c> and the consumer goes on.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> for a bad topic or group name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range (checked here, at registration).</exception>
    public static IServiceCollection AddGranaryConsumer<T, THandler>(this IServiceCollection services, string topic, string group,
        Action<ConsumerOptions>? configure = null, Action<HandlerOptions>? handler = null)
        where THandler : class, IMessageHandler<T>
    {
        ArgumentNullException.ThrowIfNull(services);
        var handlerOptions = new HandlerOptions();
        handler?.Invoke(handlerOptions);
        handlerOptions.Validate();
        return Add<T, THandler>(services, topic, group, configure, handlerOptions, batch: null);
    }

    /// <summary>
    /// Adds a hosted consumer that runs <typeparamref name="THandler"/> on batches of messages deserialized to
    /// <typeparamref name="T"/> (<see cref="TypedConsumerExtensions.RunBatchesAsync{T}"/>): each handled batch is
    /// acknowledged in one broker call per partition, a failed one is nacked together with exponential backoff.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> for a bad topic or group name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range (checked here, at registration).</exception>
    public static IServiceCollection AddGranaryBatchConsumer<T, THandler>(this IServiceCollection services, string topic, string group,
        Action<ConsumerOptions>? configure = null, Action<BatchHandlerOptions>? batch = null)
        where THandler : class, IBatchMessageHandler<T>
    {
        ArgumentNullException.ThrowIfNull(services);
        var batchOptions = new BatchHandlerOptions();
        batch?.Invoke(batchOptions);
        batchOptions.Validate();
        return Add<T, THandler>(services, topic, group, configure, handler: null, batchOptions);
    }

    private static IServiceCollection Add<T, THandler>(IServiceCollection services, string topic, string group,
        Action<ConsumerOptions>? configure, HandlerOptions? handler, BatchHandlerOptions? batch)
        where THandler : class
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        var consumerOptions = new ConsumerOptions();
        configure?.Invoke(consumerOptions);
        consumerOptions.Validate();
        var registration = new TypedConsumerRegistration(topic, group, consumerOptions, handler, batch);
        services.TryAddScoped<THandler>();
        // Not AddHostedService: it skips a second registration of the same service type (one handler, two topics).
        services.AddSingleton<IHostedService>(sp => new TypedConsumerService<T, THandler>(sp, registration));
        return services;
    }
}
