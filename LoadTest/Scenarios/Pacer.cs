using System.Diagnostics;

namespace Granary.LoadTest.Scenarios;

/// <summary>
/// Paces message i to start at i / rate seconds after the start. Behind schedule it does not wait (no catching up by
/// sleeping less later: the schedule is absolute), ahead of it it waits; with no rate it never waits.
/// </summary>
internal readonly struct Pacer
{
    private readonly long _start;
    private readonly double _ticksPerMessage;

    private Pacer(long start, double ticksPerMessage)
    {
        _start = start;
        _ticksPerMessage = ticksPerMessage;
    }

    public static Pacer Start(double? rate) => new(Stopwatch.GetTimestamp(), rate is > 0 ? Stopwatch.Frequency / rate.Value : 0);

    /// <summary>When message <paramref name="index"/> is due, as a Stopwatch timestamp.</summary>
    public long DueAt(long index) => _start + (long)(index * _ticksPerMessage);

    public ValueTask WaitTurnAsync(long index, CancellationToken cancellationToken)
    {
        if (_ticksPerMessage == 0) return ValueTask.CompletedTask;
        if (DueAt(index) <= Stopwatch.GetTimestamp()) return ValueTask.CompletedTask;
        return WaitAsync(index, cancellationToken);
    }

    /// <summary>
    /// Timers are coarse (about a millisecond): a long wait sleeps on one until about a millisecond before the turn,
    /// the rest blocks this thread in a short sleep (so a paced loop holds one thread, and no core spinning).
    /// </summary>
    private async ValueTask WaitAsync(long index, CancellationToken cancellationToken)
    {
        long coarse = Stopwatch.Frequency / 500;
        while (true)
        {
            long wait = DueAt(index) - Stopwatch.GetTimestamp();
            if (wait <= 0) return;
            cancellationToken.ThrowIfCancellationRequested();
            if (wait > coarse) await Task.Delay(TimeSpan.FromTicks((wait - coarse / 2) * TimeSpan.TicksPerSecond / Stopwatch.Frequency), cancellationToken);
            else ShortSleep.For(wait);
        }
    }
}
