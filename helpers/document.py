"""A result's Markdown report as blocks (headings, paragraphs, lists, tables, code) and inline
spans (bold, italic, code), and the base of the formatters that lay it out as DOCX or PDF.

It reads the Markdown the results write (``helpers.markdown``), not every CommonMark construct:
ATX headings, paragraphs with hard line breaks, ``-`` lists, pipe tables, fenced code, ``>``
quotes and a ``<details><summary>`` block, whose summary becomes a small heading.
"""

from __future__ import annotations

import html
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

from taskdeck import Formatter, MissingDependencyError, Result
from taskdeck.io import atomic_write_bytes

from .markdown import to_markdown

__all__ = ["Block", "Bullets", "Code", "DocumentFormatter", "Heading", "Paragraph", "Span", "Table"]
__all__ += ["blocks", "plain", "spans"]


class DocumentFormatter(Formatter):
    """Writes ``<stem>.<extension>``: the result's Markdown report laid out by :meth:`render`,
    which needs the package ``package`` (import name ``module``, extra ``documents``)."""

    module: ClassVar[str]
    package: ClassVar[str]

    def write(self, result: Result, run_dir: Path, stem: str, stream: Any) -> Path:
        if importlib.util.find_spec(self.module) is None:
            raise MissingDependencyError(self.package, f"output={self.name}", "documents")
        return atomic_write_bytes(run_dir / f"{stem}.{self.extension}", self.render(to_markdown(result, stem), stem))

    def render(self, markdown: str, title: str) -> bytes:
        """The document's bytes; ``title`` names it when the report has no heading."""
        raise NotImplementedError


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    #: Lines joined by hard breaks (two trailing spaces or a backslash in Markdown).
    lines: list[str]
    quote: bool = False


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Code:
    text: str


Block = Union[Heading, Paragraph, Bullets, Table, Code]


@dataclass
class Span:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_INLINE = re.compile(r"\*\*(?P<bold>.+?)\*\*|`(?P<code>[^`]+)`|(?<![\w\\])_(?P<italic>[^_].*?)_(?![\w])")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")


def blocks(markdown: str) -> list[Block]:
    """The blocks of ``markdown``, in order."""
    out: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.lower() in ("</details>", "<details>"):
            i += 1
        elif stripped.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
            out.append(Code("\n".join(lines[i + 1 : end])))
            i = end + 1
        elif m := _HEADING.match(stripped):
            out.append(Heading(len(m.group(1)), m.group(2)))
            i += 1
        elif summary := _SUMMARY.search(stripped):
            out.append(Heading(3, _TAG.sub("", summary.group(1)).strip()))
            i += 1
        elif stripped.startswith("|") and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]):
            table = Table(_cells(stripped))
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                table.rows.append(_cells(lines[i].strip()))
                i += 1
            out.append(table)
        elif _BULLET.match(line):
            items = []
            while i < len(lines) and (m := _BULLET.match(lines[i])):
                items.append(m.group(1).strip())
                i += 1
            out.append(Bullets(items))
        else:
            quote = stripped.startswith(">")
            para: list[str] = []
            while i < len(lines) and _continues_paragraph(lines[i], quote):
                text = lines[i].strip()
                text = text[1:].strip() if quote else text
                if para and not _hard_break(lines[i - 1]):
                    para[-1] = f"{para[-1]} {text}".strip()
                else:
                    para.append(text)
                i += 1
            para = [_TAG.sub("", p).rstrip("\\").strip() for p in para]
            if any(para):
                out.append(Paragraph([p for p in para if p], quote=quote))
    return out


def spans(text: str) -> list[Span]:
    """``text``'s inline runs: ``**bold**``, ``_italic_``, ```code```; escapes undone, entities decoded."""
    out: list[Span] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(Span(_unescape(text[pos : m.start()])))
        if m.group("bold") is not None:
            out += [Span(s.text, bold=True, italic=s.italic, code=s.code) for s in spans(m.group("bold"))]
        elif m.group("code") is not None:
            out.append(Span(m.group("code"), code=True))
        else:
            out += [Span(s.text, bold=s.bold, italic=True, code=s.code) for s in spans(m.group("italic"))]
        pos = m.end()
    if pos < len(text):
        out.append(Span(_unescape(text[pos:])))
    return [s for s in out if s.text]


def plain(text: str) -> str:
    """``text`` without its inline markup."""
    return "".join(s.text for s in spans(text))


def _unescape(text: str) -> str:
    return html.unescape(_ESCAPE.sub(r"\1", text))


def _cells(row: str) -> list[str]:
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def _hard_break(line: str) -> bool:
    return line.endswith("  ") or line.rstrip().endswith("\\")


def _continues_paragraph(line: str, quote: bool) -> bool:
    stripped = line.strip()
    if not stripped or stripped.startswith(("```", "|", "#")) or _BULLET.match(line) or _SUMMARY.search(stripped):
        return False
    if stripped.lower() in ("</details>", "<details>"):
        return False
    return stripped.startswith(">") == quote
