using Granary.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Client.Internal;

/// <summary>What <see cref="GranaryServiceCollectionExtensions.AddGranaryConsumer{THandler}"/> registered.</summary>
internal sealed record ConsumerRegistration(string Topic, string Group, ConsumerOptions Consumer, HandlerOptions Handler);

/// <summary>
/// A hosted consumer: creates the consumer when the host starts, runs <typeparamref name="THandler"/> (one DI scope
/// per message) through <see cref="GranaryConsumer.RunAsync(Func{ReceivedMessage, CancellationToken, Task}, HandlerOptions?, CancellationToken)"/>
/// until the host stops, then disposes the consumer, which gives what it had not acknowledged back to the group.
/// A fatal consumer error ends the service and, under the host's default <c>BackgroundServiceExceptionBehavior</c>, the host.
/// </summary>
internal sealed partial class GranaryConsumerService<THandler> : BackgroundService where THandler : IMessageHandler
{
    private readonly GranaryClientConnection _connection;
    private readonly IServiceScopeFactory _scopes;
    private readonly ConsumerRegistration _registration;

    /// <summary>What this consumer was registered with (its options as bound and configured).</summary>
    internal ConsumerRegistration Registration => _registration;
    private readonly ILogger _logger;
    private readonly HostedConsumerStatuses _statuses;

    public GranaryConsumerService(IServiceProvider services, ConsumerRegistration registration)
    {
        _connection = services.GetService<GranaryClientConnection>()
            ?? throw new InvalidOperationException($"The hosted consumer of '{registration.Topic}' needs a Granary client: call services.AddGranaryClient(...).");
        _scopes = services.GetRequiredService<IServiceScopeFactory>();
        _logger = services.GetRequiredService<ILogger<GranaryConsumerService<THandler>>>();
        _registration = registration;
        _statuses = services.GetRequiredService<HostedConsumerStatuses>();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var status = _statuses.Register(_registration.Topic, _registration.Group);
        try
        {
            var client = await _connection.ConnectAsync(stoppingToken).ConfigureAwait(false);
            var consumer = client.CreateConsumer(_registration.Topic, _registration.Group, _registration.Consumer);
            await using (consumer.ConfigureAwait(false))
            {
                await consumer.StartAsync(stoppingToken).ConfigureAwait(false);
                status.Running();
                LogStarted(_logger, _registration.Topic, _registration.Group, typeof(THandler).Name);
                await consumer.RunAsync(HandleAsync, _registration.Handler, stoppingToken).ConfigureAwait(false);
            }
            status.Stopped();
            LogStopped(_logger, _registration.Topic, _registration.Group);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            status.Stopped();
            throw;
        }
        catch (Exception e)
        {
            status.Failed(e);
            throw;
        }
    }

    private async Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var handler = scope.ServiceProvider.GetRequiredService<THandler>();
            try
            {
                await handler.HandleAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogHandlerFailed(_logger, message.Topic, message.Partition, message.Offset, message.DeliveryAttempt, e);
                throw;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming '{Topic}' as group '{Group}' with {Handler}")]
    private static partial void LogStarted(ILogger logger, string topic, string group, string handler);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped consuming '{Topic}' as group '{Group}'")]
    private static partial void LogStopped(ILogger logger, string topic, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler failed on {Topic} {Partition}/{Offset} (delivery {Attempt}); it is nacked")]
    private static partial void LogHandlerFailed(ILogger logger, string topic, int partition, long offset, int attempt, Exception exception);
}
