using System.CommandLine;
using Granary.LoadTest.Scenarios;

namespace Granary.LoadTest.Cli;

/// <summary><c>log-bench</c>: the storage engine alone, against the raw limits of the same disk.</summary>
internal static class LogBenchCommand
{
    public static Command Build(TextWriter output)
    {
        var dataDirectory = new Option<string>("--data-dir")
        {
            Description = "Directory on the disk to measure (a temporary folder is created inside it and removed afterwards).",
            DefaultValueFactory = _ => "./data",
        };
        var seconds = new Option<double>("--seconds")
        {
            Description = "Duration of each measured case, in seconds.",
            DefaultValueFactory = _ => 2.0,
        };
        var cases = new Option<string[]>("--case")
        {
            Description = "Run only these cases, as RECORDBYTESxBATCHxAPPENDERS (e.g. 100x1x8); repeatable. Default: all twelve.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("log-bench", "Measure the partition log engine under FlushPolicy.Always against the raw limits of the same disk.")
        {
            dataDirectory,
            seconds,
            cases,
        };
        command.SetAction((parse, cancellationToken) =>
            new LogBenchmark(parse.GetValue(dataDirectory)!, TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(cases) ?? [], output)
                .RunAsync(cancellationToken));
        return command;
    }
}
