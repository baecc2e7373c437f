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
        long wait = DueAt(index) - Stopwatch.GetTimestamp();
        // Timers are coarse (about a millisecond): spin-yield through short waits, sleep through long ones.
        if (wait <= 0) return ValueTask.CompletedTask;
        return WaitAsync(index, cancellationToken);
    }

    private async ValueTask WaitAsync(long index, CancellationToken cancellationToken)
    {
        while (true)
        {
            long wait = DueAt(index) - Stopwatch.GetTimestamp();
            if (wait <= 0) return;
            if (wait > Stopwatch.Frequency / 500) await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency / 2), cancellationToken);
            else await Task.Yield();
        }
    }
}
