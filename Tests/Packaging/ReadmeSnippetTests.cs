using System.Text.RegularExpressions;

namespace Granary.Tests.Packaging;

/// <summary>
/// The README's code comes from the samples, which CI compiles: every block marked
/// <c>&lt;!-- snippet: FILE#NAME --&gt;</c> must equal the region <c>// &lt;NAME&gt;</c> ... <c>// &lt;/NAME&gt;</c> of
/// that sample, less the indentation its lines share (<c>tools/readme-snippets.py</c> copies them), and every
/// <c>```csharp</c> block of the README must be so marked: no example in it is compiled nowhere.
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

    [Fact]
    public void EveryReadmeCsharpBlock_IsMarkedWithASampleOfTheRepository()
    {
        string repo = ClientPackageTests.RepositoryRoot();
        string[] lines = File.ReadAllText(Path.Combine(repo, "README.md")).ReplaceLineEndings("\n").Split('\n');
        var unmarked = new List<int>();
        for (int i = 0; i < lines.Length; i++)
            if (lines[i].StartsWith("```csharp", StringComparison.Ordinal) && (i == 0 || !lines[i - 1].StartsWith("<!-- snippet: ", StringComparison.Ordinal)))
                unmarked.Add(i + 1);
        Assert.True(unmarked.Count == 0,
            $"README.md has ```csharp blocks that come from no sample (lines {string.Join(", ", unmarked)}): put the code in a region of a " +
            "file under samples/ and mark the block <!-- snippet: FILE#NAME -->");

        // Tests.csproj builds every project under samples/, so a marked block there is compiled code.
        var outside = SnippetBlock().Matches(string.Join('\n', lines)).Select(m => m.Groups["file"].Value)
            .Where(file => !file.StartsWith("samples/", StringComparison.Ordinal)).Distinct().ToList();
        Assert.True(outside.Count == 0, $"README snippets from files outside samples/: {string.Join(", ", outside)}");
    }

    /// <summary>The lines between the region's markers, less the indentation they share (blank lines made empty).</summary>
    internal static string Region(string[] lines, string name, string file)
    {
        int start = Array.FindIndex(lines, l => l.Trim() == $"// <{name}>");
        int end = Array.FindIndex(lines, l => l.Trim() == $"// </{name}>");
        Assert.True(start >= 0 && end > start, $"{file} has no region {name}");
        string[] body = lines[(start + 1)..end];
        int margin = body.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l.Length - l.TrimStart(' ').Length).DefaultIfEmpty(0).Min();
        return string.Concat(body.Select(l => (string.IsNullOrWhiteSpace(l) ? "" : l[margin..]) + "\n"));
    }

    [GeneratedRegex(@"^<!-- snippet: (?<file>[^#\n]+)#(?<name>[\w-]+) -->\n```csharp\n(?<body>.*?)```\n", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex SnippetBlock();
}
