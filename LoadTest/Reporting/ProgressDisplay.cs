using System.Diagnostics;
using System.Globalization;

namespace Granary.LoadTest.Reporting;

/// <summary>
/// A live progress line once a second: rewritten in place on a terminal, one line per second when the output is
/// redirected (a CI log).
/// </summary>
internal sealed class ProgressDisplay : IAsyncDisposable
{
    private readonly Func<string> _status;
    private readonly TextWriter _output;
    private readonly bool _inPlace;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ProgressDisplay(string label, Func<long> done, Func<long> errors, TextWriter output)
    {
        _output = output;
        _inPlace = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var started = Stopwatch.GetTimestamp();
        long last = 0;
        var lastAt = started;
        _status = () =>
        {
            long now = Stopwatch.GetTimestamp(), count = done();
            double interval = Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds;
            double rate = interval > 0 ? (count - last) / interval : 0;
            (last, lastAt) = (count, now);
            return string.Create(CultureInfo.InvariantCulture,
                $"[{label} {Stopwatch.GetElapsedTime(started, now).TotalSeconds,6:0.0} s] {count,14:N0} messages  {rate,12:N0} msg/s  errors {errors()}");
        };
        _loop = RunAsync();
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token)) Write(_status());
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Write(string line)
    {
        if (_inPlace) _output.Write($"\r{line}");
        else _output.WriteLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Write(_status());
        if (_inPlace) _output.WriteLine();
        _stop.Dispose();
    }
}
