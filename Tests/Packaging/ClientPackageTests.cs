using System.Diagnostics;
using System.Text;
using System.Xml.Linq;
using Granary.Tests.Admin;

namespace Granary.Tests.Packaging;

/// <summary>
/// The client as a new user gets it: Granary.Client packed into a local feed, a new console app with implicit usings
/// that references only that package, the README's quickstart (samples/Quickstart/Program.cs) in it unchanged. It must
/// build (no type of the quickstart outside Granary.Client, no ambiguity with Orleans' implicit usings), leave the
/// server runtime's extras out of its output (no Npgsql, ADO.NET clustering, Roslyn, nor the Orleans server runtime
/// that TLS would bring), and run against a silo. The worker, web, TLS and snippet samples, where the README's other
/// client examples come from, build against the same packages unchanged, and the snippets that need only a silo run.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClientPackageTests(AdminApiSilo silo) : IClassFixture<AdminApiSilo>
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task TheQuickstart_BuildsAgainstThePackedClientAlone_AndRunsOnASilo()
    {
        string repo = RepositoryRoot();
        using var work = new TempDirectory();
        string feed = Path.Combine(work.Path, "feed");
        string app = Path.Combine(work.Path, "app");
        Directory.CreateDirectory(app);

        // The test assembly's build built these projects already (same configuration): pack them as they are.
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        foreach (string project in new[] { "Records/Records.csproj", "Grains.Interfaces/Grains.Interfaces.csproj", "ClientSdk/ClientSdk.csproj", "ClientSdk.Tls/ClientSdk.Tls.csproj",
            "Clustering.AdoNet/Clustering.AdoNet.csproj", "Idempotency.PostgreSql/Idempotency.PostgreSql.csproj" })
            await DotNetAsync(repo, "pack", Path.Combine(repo, project), "--no-build", "-c", configuration, "-o", feed);
        // Granary.Client.0.1.0.nupkg, not Granary.Client.Tls.0.1.0.nupkg.
        static bool IsClient(string file) => char.IsAsciiDigit(Path.GetFileName(file)["Granary.Client.".Length]);
        Assert.Single(Directory.GetFiles(feed, "Granary.Client.*.snupkg"), IsClient);

        // Offline: the local feed, then the machine's package cache as a second source; a packages folder of its own,
        // so an earlier run's Granary.Client is never taken from the cache.
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(work.Path, "packages")}" /></config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="cache" value="{cache}" />
              </packageSources>
            </configuration>
            """, TestContext.Current.CancellationToken);
        string version = Path.GetFileNameWithoutExtension(Directory.GetFiles(feed, "Granary.Client.*.nupkg").Single(IsClient))["Granary.Client.".Length..];
        await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Granary.Client" Version="{version}" />
              </ItemGroup>
            </Project>
            """, TestContext.Current.CancellationToken);
        File.Copy(Path.Combine(repo, "samples", "Quickstart", "Program.cs"), Path.Combine(app, "Program.cs"));

        await DotNetAsync(app, "build", "-c", "Release", "-o", Path.Combine(app, "out"));
        // The README's other client examples come from the worker, web, TLS and snippet samples: they build unchanged
        // against the packages too (packages restored by the build above; meanwhile the quickstart runs).
        var samples = Task.WhenAll(ClientSamples.Select(sample => BuildSampleAgainstPackageAsync(repo, work.Path, sample, version)));

        string[] assemblies = [.. Directory.GetFiles(Path.Combine(app, "out"), "*.dll").Select(Path.GetFileName)!];
        Assert.Contains("Granary.Client.dll", assemblies);
        // Orleans' TLS package (in Granary.Client.Tls) brings the Orleans server runtime: the plain client has neither.
        foreach (string left in new[] { "Npgsql.dll", "Orleans.Clustering.AdoNet.dll", "Microsoft.CodeAnalysis.dll", "Microsoft.CodeAnalysis.Workspaces.dll", "Humanizer.dll",
            "Orleans.Runtime.dll", "Orleans.Connections.Security.dll" })
            Assert.DoesNotContain(left, assemblies);

        string topic = "quickstart-" + Guid.NewGuid().ToString("N")[..8];
        string output = await DotNetAsync(app, Path.Combine(app, "out", "app.dll"), $"127.0.0.1:{silo.Silo.GatewayPort}", topic);
        Assert.Contains("stored at partition", output, StringComparison.Ordinal);
        Assert.Contains("received order-42", output, StringComparison.Ordinal);
        Assert.Contains($"{topic} exists already", output, StringComparison.Ordinal);
        await samples;

        // The README's shorter examples that need only a silo run too (samples/Snippets/Program.cs), from the build
        // against the packages.
        string snippets = await DotNetAsync(work.Path, Path.Combine(work.Path, "Snippets", "out", "Snippets.dll"), $"127.0.0.1:{silo.Silo.GatewayPort}");
        Assert.Contains("ran dedup-window: the repeat is a duplicate of the first", snippets, StringComparison.Ordinal);
        Assert.Contains("snippets ran", snippets, StringComparison.Ordinal);
    }

    /// <summary>
    /// The samples the README's client examples come from, besides the quickstart (samples/StorageEngine uses the
    /// repository's storage engine, not the client, and builds with the repository only).
    /// </summary>
    private static readonly string[] ClientSamples = ["Worker", "WebApi", "TlsClient", "Snippets"];

    /// <summary>
    /// Copies samples/<paramref name="sample"/> (its sources and settings, not its project file) into a new project
    /// with implicit usings, of the sample's SDK and output type, that references the packed packages instead of the
    /// repository's projects (and the sample's other packages at the repository's versions), and builds it into
    /// <c>out</c> beside its sources.
    /// </summary>
    private static async Task BuildSampleAgainstPackageAsync(string repo, string work, string sample, string version)
    {
        string app = Path.Combine(work, sample);
        Directory.CreateDirectory(app);
        foreach (string file in Directory.GetFiles(Path.Combine(repo, "samples", sample)).Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        File.Copy(Path.Combine(work, "app", "nuget.config"), Path.Combine(app, "nuget.config"));

        string sampleProject = Path.Combine(repo, "samples", sample, sample + ".csproj");
        var project = XDocument.Load(sampleProject);
        string sdk = project.Root!.Attribute("Sdk")!.Value;
        string? outputType = project.Descendants("OutputType").Select(e => e.Value).FirstOrDefault();
        var versions = XDocument.Load(Path.Combine(repo, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value, StringComparer.OrdinalIgnoreCase);
        var packages = new List<(string Id, string Version)>();
        foreach (var reference in project.Descendants("ProjectReference"))
        {
            // A repository project the sample references is a package of the feed: its PackageId, the one version.
            string referenced = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(sampleProject)!, reference.Attribute("Include")!.Value.Replace('\\', '/')));
            string? id = XDocument.Load(referenced).Descendants("PackageId").Select(e => e.Value).FirstOrDefault();
            Assert.True(id is not null, $"samples/{sample} references {referenced}, which is not a package");
            packages.Add((id, version));
        }
        foreach (var reference in project.Descendants("PackageReference"))
        {
            string id = reference.Attribute("Include")!.Value;
            Assert.True(versions.TryGetValue(id, out string? packageVersion), $"Directory.Packages.props has no version of {id}");
            packages.Add((id, packageVersion));
        }
        Assert.Contains(packages, p => p.Id == "Granary.Client");

        string references = string.Concat(packages.Select(p => $"""
                <PackageReference Include="{p.Id}" Version="{p.Version}" />

            """));
        await File.WriteAllTextAsync(Path.Combine(app, sample + ".csproj"), $"""
            <Project Sdk="{sdk}">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                {(outputType is null ? "" : $"<OutputType>{outputType}</OutputType>")}
              </PropertyGroup>
              <ItemGroup>
            {references}  </ItemGroup>
            </Project>
            """, TestContext.Current.CancellationToken);
        await DotNetAsync(app, "build", "-c", "Release", "-o", Path.Combine(app, "out"));
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Silo.sln"))) directory = directory.Parent;
        Assert.True(directory is not null, "no Silo.sln above the test assembly");
        return directory.FullName;
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> and returns its output; fails the test with it on a non-zero exit.</summary>
    private static async Task<string> DotNetAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(SiloProcess.DotNetHost(), arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The test host's MSBuild settings (a dotnet test run sets some) must not leak into the new project's build.
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" }) start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(StepLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        output.Append(await stdout).Append(await stderr);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output}");
        return output.ToString();
    }
}
