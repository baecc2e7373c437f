namespace Granary.Cli.Output;

/// <summary>Columns padded to their widest cell, two spaces apart, headers in capitals: what kafka-topics and rabbitmqctl print.</summary>
internal static class Table
{
    public static void Write(TextWriter output, string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        WriteRow(output, headers, widths);
        foreach (var row in all) WriteRow(output, row, widths);
    }

    /// <summary>Name-value lines, names padded: for one object's settings.</summary>
    public static void WritePairs(TextWriter output, IEnumerable<(string Name, string Value)> pairs)
    {
        var all = pairs.ToList();
        int width = all.Max(p => p.Name.Length);
        foreach (var (name, value) in all) output.WriteLine($"{(name + ":").PadRight(width + 2)}{value}");
    }

    private static void WriteRow(TextWriter output, string[] cells, int[] widths)
    {
        // The last column is not padded, so lines carry no trailing spaces.
        output.WriteLine(string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd());
    }
}
