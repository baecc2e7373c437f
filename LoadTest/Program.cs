using Granary.LoadTest.Cli;

// produce | consume | e2e | verify | log-bench; see README "Performance" and `--help` of each command.
return await LoadTestCommands.Build(Console.Out).Parse(args).InvokeAsync();
