using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Client;

/// <summary>Registers a <see cref="GranaryClient"/> in dependency injection.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="GranaryClient"/> that connects with <paramref name="configure"/>'s options the
    /// first time it is resolved through <see cref="GranaryClientAccessor"/>.
    /// </summary>
    public static IServiceCollection AddGranaryClient(this IServiceCollection services, Action<GranaryClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new GranaryClientOptions();
        configure(options);
        services.TryAddSingleton(new GranaryClientAccessor(options));
        return services;
    }
}

/// <summary>Connects once, on first use, and shares the <see cref="GranaryClient"/>.</summary>
public sealed class GranaryClientAccessor(GranaryClientOptions options) : IAsyncDisposable
{
    private readonly Lazy<Task<GranaryClient>> _client = new(() => GranaryClient.ConnectAsync(options));

    /// <summary>The connected client.</summary>
    public Task<GranaryClient> GetClientAsync() => _client.Value;

    /// <summary>Disconnects if connected.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_client.IsValueCreated && _client.Value.IsCompletedSuccessfully) await _client.Value.Result.DisposeAsync().ConfigureAwait(false);
    }
}
