using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Granary.Client.Tls;

/// <summary>
/// Orleans' TLS middleware catches a failed handshake, logs it as a warning with the exception, and closes the
/// connection, so the client only sees a dropped connection. The middleware takes its logger factory from the
/// connection builder's services: this builder hands it one whose loggers also pass each logged exception (the
/// handshake's AuthenticationException, or the timeout) to the client, which then stops at once with that cause.
/// </summary>
internal sealed class HandshakeFailureObserver(IConnectionBuilder inner, Action<Exception> failed) : IConnectionBuilder, IServiceProvider
{
    public IServiceProvider ApplicationServices => this;

    public IConnectionBuilder Use(Func<ConnectionDelegate, ConnectionDelegate> middleware)
    {
        inner.Use(middleware);
        return this;
    }

    public ConnectionDelegate Build() => inner.Build();

    public object? GetService(Type serviceType) =>
        serviceType == typeof(ILoggerFactory)
            ? new ObservingLoggerFactory(inner.ApplicationServices.GetService(typeof(ILoggerFactory)) as ILoggerFactory, failed)
            : inner.ApplicationServices.GetService(serviceType);

    private sealed class ObservingLoggerFactory(ILoggerFactory? inner, Action<Exception> failed) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new ObservingLogger(inner?.CreateLogger(categoryName), failed);

        public void AddProvider(ILoggerProvider provider) => inner?.AddProvider(provider);

        public void Dispose()
        {
            // The application's logger factory is not ours to dispose.
        }
    }

    private sealed class ObservingLogger(ILogger? inner, Action<Exception> failed) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner?.BeginScope(state);

        // Always enabled, so that the failure reaches the client even when the application logs nothing.
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is not null && logLevel >= LogLevel.Warning) failed(exception);
            if (inner?.IsEnabled(logLevel) == true) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
