using System.Text.RegularExpressions;

namespace Granary.Tests.Packaging;

/// <summary>
/// The README's code comes from the samples, which CI compiles: every block marked
/// <c>&lt;!-- snippet: FILE#NAME --&gt;</c> must equal the region <c>// &lt;NAME&gt;</c> ... <c>// &lt;/NAME&gt;</c> of
/// that sample (<c>tools/readme-snippets.py</c> copies them).
/// </summary>
public sealed partial class ReadmeSnippetTests
{
    [Fact]
    public void EveryMarkedReadmeBlock_IsItsSampleRegion()
    {
        string repo = ClientPackageTests.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(repo, "README.md")).ReplaceLineEndings("\n");
        var blocks = SnippetBlock().Matches(readme);
        Assert.True(blocks.Count >= 10, $"only {blocks.Count} snippet blocks in README.md");
        var differing = new List<string>();
        foreach (Match block in blocks)
        {
            string file = block.Groups["file"].Value, name = block.Groups["name"].Value;
            string path = Path.Combine(repo, file);
            Assert.True(File.Exists(path), $"README names {file}, which does not exist");
            string region = Region(File.ReadAllLines(path), name, file);
            if (region != block.Groups["body"].Value) differing.Add($"{file}#{name}");
        }
        Assert.True(differing.Count == 0,
            $"README blocks differ from their samples (run python3 tools/readme-snippets.py): {string.Join(", ", differing)}");
    }

    private static string Region(string[] lines, string name, string file)
    {
        int start = Array.FindIndex(lines, l => l.Trim() == $"// <{name}>");
        int end = Array.FindIndex(lines, l => l.Trim() == $"// </{name}>");
        Assert.True(start >= 0 && end > start, $"{file} has no region {name}");
        return string.Concat(lines[(start + 1)..end].Select(l => l + "\n"));
    }

    [GeneratedRegex(@"^<!-- snippet: (?<file>[^#\n]+)#(?<name>[\w-]+) -->\n```csharp\n(?<body>.*?)```\n", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex SnippetBlock();
}
