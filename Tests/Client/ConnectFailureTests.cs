using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Granary.Tests.Client;

/// <summary>A connect that cannot succeed fails fast with its cause, and logs its attempts (issue 20, item 4b).</summary>
public sealed class ConnectFailureTests
{
    [Fact]
    public async Task ConnectAsync_ClosedPort_FailsFastAsRefused_WithTheSocketError()
    {
        using var logs = new CollectingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var options = new GranaryClientOptions { Gateways = [$"127.0.0.1:{ClosedPort()}"], ConnectTimeout = TimeSpan.FromSeconds(30), LoggerFactory = factory };

        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<GranaryException>(() => GranaryClient.ConnectAsync(options));

        // Before: nothing for the whole 30 s, then a Timeout without an inner exception.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the refused connect took {clock.Elapsed}");
        Assert.Equal(GranaryErrorCode.PartitionUnavailable, failure.Code);
        Assert.Contains("refused", failure.Message, StringComparison.Ordinal);
        Assert.Contains(Chain(failure), e => e.Message.Contains("ConnectionRefused", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("Connecting to Granary cluster", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("Connection attempt 1 failed (Refused)", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectAsync_ClosedPort_WithRetryRefusedConnections_KeepsTryingUntilTheConnectTimeout()
    {
        var options = new GranaryClientOptions { Gateways = [$"127.0.0.1:{ClosedPort()}"], ConnectTimeout = TimeSpan.FromSeconds(4), RetryRefusedConnections = true };

        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<GranaryException>(() => GranaryClient.ConnectAsync(options));

        Assert.Equal(GranaryErrorCode.Timeout, failure.Code);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3.5), $"gave up after {clock.Elapsed}");
        Assert.Contains(Chain(failure), e => e.Message.Contains("ConnectionRefused", StringComparison.Ordinal));
    }

    /// <summary>A port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException) yield return e;
    }

    /// <summary>Keeps every log line as "Level message".</summary>
    internal sealed class CollectingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {formatter(state, exception)}");
        }
    }
}
