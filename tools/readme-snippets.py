#!/usr/bin/env python3
"""Copies the samples' snippet regions into README.md.

A README code block preceded by `<!-- snippet: samples/X/File.cs#name -->` is replaced by the lines between
`// <name>` and `// </name>` in that file (the lines of the markers themselves left out, the indentation the region's
lines share removed, so a region inside a method reads as it would at the top level). Every ```csharp block of the
README must be such a block: this script names the ones that are not, and Tests/Packaging/ReadmeSnippetTests fails.
Change the sample, then run `python3 tools/readme-snippets.py`; Tests/Packaging/ReadmeSnippetTests fails while the
README and a sample differ.
"""
import pathlib, re, sys, textwrap

root = pathlib.Path(__file__).resolve().parent.parent
readme = root / "README.md"
marker = re.compile(r"^<!-- snippet: (?P<file>[^#]+)#(?P<name>[\w-]+) -->\n```csharp\n(?P<body>.*?)```\n", re.M | re.S)

def region(file: str, name: str) -> str:
    lines = (root / file).read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == f"// <{name}>")
    end = next(i for i, l in enumerate(lines) if l.strip() == f"// </{name}>")
    return textwrap.dedent("\n".join(lines[start + 1:end]) + "\n")

text = readme.read_text()
new = marker.sub(lambda m: f"<!-- snippet: {m['file']}#{m['name']} -->\n```csharp\n{region(m['file'], m['name'])}```\n", text)
if new != text:
    readme.write_text(new)
    print("README.md updated")
else:
    print("README.md matches the samples")
unmarked = [i + 1 for i, l in enumerate(new.splitlines()) if l.startswith("```csharp") and (i == 0 or not new.splitlines()[i - 1].startswith("<!-- snippet: "))]
if unmarked:
    print(f"README.md lines {unmarked}: ```csharp blocks without a <!-- snippet: FILE#NAME --> marker", file=sys.stderr)
    sys.exit(1)
sys.exit(0)
