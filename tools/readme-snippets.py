#!/usr/bin/env python3
"""Copies the samples' snippet regions into README.md.

A README code block preceded by `<!-- snippet: samples/X/File.cs#name -->` is replaced by the lines between
`// <name>` and `// </name>` in that file (the lines of the markers themselves left out, indentation kept).
Change the sample, then run `python3 tools/readme-snippets.py`; Tests/Packaging/ReadmeSnippetTests fails while the
README and a sample differ.
"""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
readme = root / "README.md"
marker = re.compile(r"^<!-- snippet: (?P<file>[^#]+)#(?P<name>[\w-]+) -->\n```csharp\n(?P<body>.*?)```\n", re.M | re.S)

def region(file: str, name: str) -> str:
    lines = (root / file).read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == f"// <{name}>")
    end = next(i for i, l in enumerate(lines) if l.strip() == f"// </{name}>")
    return "\n".join(lines[start + 1:end]) + "\n"

text = readme.read_text()
new = marker.sub(lambda m: f"<!-- snippet: {m['file']}#{m['name']} -->\n```csharp\n{region(m['file'], m['name'])}```\n", text)
if new != text:
    readme.write_text(new)
    print("README.md updated")
else:
    print("README.md matches the samples")
sys.exit(0)
