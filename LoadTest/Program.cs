using System.CommandLine;
using Granary.LoadTest.Scenarios;

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

var logBench = new Command("log-bench", "Measure the partition log engine under FlushPolicy.Always against the raw limits of the same disk.")
{
    dataDirectory,
    seconds,
};
logBench.SetAction((parse, cancellationToken) =>
    new LogBenchmark(parse.GetValue(dataDirectory)!, TimeSpan.FromSeconds(parse.GetValue(seconds)), Console.Out).RunAsync(cancellationToken));

var root = new RootCommand("Granary load-test tool.") { logBench };
return await root.Parse(args).InvokeAsync();
