using Granary.Cli;

return await GranaryCli.RunAsync(args, Console.Out, Console.Error);
