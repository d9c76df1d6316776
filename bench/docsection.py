"""One benchmark's section of docs/benchmarks.md, replaced in place between its markers."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(start: str, end: str, section: str, *, heading: str = "", doc: Path = DOC) -> None:
    """Put ``section`` between ``start`` and ``end`` (other sections are left alone); a section not
    there yet goes at the end, under ``heading`` when one is given."""
    doc.parent.mkdir(exist_ok=True)
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    block = f"{start}\n{section.rstrip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        title = f"## {heading}\n\n" if heading else ""
        text = text.rstrip() + "\n\n" + title + block + "\n"
    doc.write_text(text)
