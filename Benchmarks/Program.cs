using BenchmarkDotNet.Running;

// dotnet run -c Release --project Benchmarks -- --filter '*'   (or a class: --filter '*RecordBatchBenchmarks*')
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
