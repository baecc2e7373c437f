using Granary.Tests.Admin;

namespace Granary.Tests.Console;

/// <summary>A silo whose admin API wants <see cref="Key"/>: the console must ask for it.</summary>
public sealed class KeyedConsoleSilo() : AdminSilo($"--Granary:Admin:ApiKey={Key}")
{
    public const string Key = "console-test-key-7f3a";
}

/// <summary>A silo of its own for the README's screenshot, so that it shows only the topics made for it.</summary>
public sealed class ScreenshotConsoleSilo() : AdminSilo;
