using Granary.Tests.Storage;

namespace Granary.Tests;

/// <summary>
/// The test assembly's entry point. It doubles as the child process of the crash tests (which must be a separate
/// process so that SIGKILL hits a real writer) and of the traced log opening; any other invocation runs xunit's console runner.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == CrashAppender.Command) return await CrashAppender.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == OpenLogChild.Command) return await OpenLogChild.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == SharedFlushChild.Command) return await SharedFlushChild.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == TooManyOpenFilesChild.Command) return await TooManyOpenFilesChild.RunAsync(args[1..]);
        // What xunit's generated entry point does: `dotnet test` (Microsoft.Testing.Platform) passes --server.
        if (args.Any(arg => arg is "--server" or "--internal-msbuild-node"))
            return await Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework.RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions);
        return await Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args);
    }
}
