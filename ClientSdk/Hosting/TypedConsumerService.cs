using Granary.Client.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Client.Internal;

/// <summary>What <see cref="TypedConsumerServiceCollectionExtensions"/> registered for one hosted typed consumer.</summary>
internal sealed record TypedConsumerRegistration(string Topic, string Group, ConsumerOptions Consumer, HandlerOptions? Handler, BatchHandlerOptions? Batch);

/// <summary>
/// A hosted typed consumer: creates the consumer when the host starts and runs <typeparamref name="THandler"/>
/// (an <see cref="IMessageHandler{T}"/> per message, or an <see cref="IBatchMessageHandler{T}"/> per batch, each
/// from a new DI scope) until the host stops, then disposes the consumer. The serializer is the container's
/// <see cref="IMessageSerializer{T}"/>, or JSON with web defaults when it has none.
/// </summary>
internal sealed partial class TypedConsumerService<T, THandler> : BackgroundService where THandler : class
{
    private readonly GranaryClientConnection _connection;
    private readonly IServiceScopeFactory _scopes;
    private readonly TypedConsumerRegistration _registration;

    /// <summary>What this consumer was registered with (its options as bound and configured).</summary>
    internal TypedConsumerRegistration Registration => _registration;
    private readonly IMessageSerializer<T> _serializer;
    private readonly ILogger _logger;

    public TypedConsumerService(IServiceProvider services, TypedConsumerRegistration registration)
    {
        _connection = services.GetService<GranaryClientConnection>()
            ?? throw new InvalidOperationException($"The hosted consumer of '{registration.Topic}' needs a Granary client: call services.AddGranaryClient(...).");
        _scopes = services.GetRequiredService<IServiceScopeFactory>();
        _serializer = services.GetService<IMessageSerializer<T>>() ?? new JsonMessageSerializer<T>();
        _logger = services.GetRequiredService<ILogger<TypedConsumerService<T, THandler>>>();
        _registration = registration;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var client = await _connection.ConnectAsync(stoppingToken).ConfigureAwait(false);
        var consumer = client.CreateConsumer(_registration.Topic, _registration.Group, _registration.Consumer);
        await using (consumer.ConfigureAwait(false))
        {
            LogStarted(_logger, _registration.Topic, _registration.Group, typeof(THandler).Name, typeof(T).Name);
            if (_registration.Batch is { } batch)
                await consumer.RunBatchesAsync<T>(HandleBatchAsync, batch, _serializer, stoppingToken).ConfigureAwait(false);
            else
                await consumer.RunAsync<T>(HandleAsync, _registration.Handler, _serializer, stoppingToken).ConfigureAwait(false);
        }
        LogStopped(_logger, _registration.Topic, _registration.Group);
    }

    private async Task HandleAsync(ReceivedMessage<T> message, CancellationToken cancellationToken)
    {
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var handler = (IMessageHandler<T>)scope.ServiceProvider.GetRequiredService<THandler>();
            try
            {
                await handler.HandleAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogHandlerFailed(_logger, _registration.Topic, message.Partition, message.Offset, message.DeliveryAttempt, e);
                throw;
            }
        }
    }

    private async Task HandleBatchAsync(IReadOnlyList<ReceivedMessage<T>> batch, CancellationToken cancellationToken)
    {
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var handler = (IBatchMessageHandler<T>)scope.ServiceProvider.GetRequiredService<THandler>();
            await handler.HandleAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming '{Topic}' as group '{Group}' with {Handler} ({Type})")]
    private static partial void LogStarted(ILogger logger, string topic, string group, string handler, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped consuming '{Topic}' as group '{Group}'")]
    private static partial void LogStopped(ILogger logger, string topic, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler failed on {Topic} {Partition}/{Offset} (delivery {Attempt}); it is nacked")]
    private static partial void LogHandlerFailed(ILogger logger, string topic, int partition, long offset, int attempt, Exception exception);
}
