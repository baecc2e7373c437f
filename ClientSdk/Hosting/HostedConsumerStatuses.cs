using System.Collections.Concurrent;

namespace Granary.Client.Internal;

/// <summary>How each hosted consumer of the host stands, for <see cref="GranaryConsumersHealthCheck"/>.</summary>
internal sealed class HostedConsumerStatuses
{
    private readonly ConcurrentQueue<Status> _all = new();

    public IEnumerable<Status> All => _all;

    public Status Register(string topic, string group)
    {
        var status = new Status(topic, group);
        _all.Enqueue(status);
        return status;
    }

    internal enum State { Starting, Running, Stopped, Failed }

    /// <summary>One hosted consumer: starting (connecting, joining), running, stopped with the host, or failed.</summary>
    internal sealed class Status(string topic, string group)
    {
        private volatile Exception? _error;
        private int _state;

        public string Name { get; } = $"{topic}/{group}";

        public State Current => (State)Volatile.Read(ref _state);

        public Exception? Error => _error;

        public void Running() => Volatile.Write(ref _state, (int)State.Running);

        public void Stopped() => Volatile.Write(ref _state, (int)State.Stopped);

        public void Failed(Exception error)
        {
            _error = error;
            Volatile.Write(ref _state, (int)State.Failed);
        }
    }
}
