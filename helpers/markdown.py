"""Results as Markdown, for the formatters that write Markdown or HTML."""

from __future__ import annotations

from typing import Any

from taskdeck import Result

__all__ = ["markdown_table", "to_markdown"]


def to_markdown(result: Result, stem: str) -> str:
    """The result's own Markdown (``Result.to_markdown``), else a heading, its text and a table."""
    own = result.to_markdown()
    if own is not None:
        return own
    title = getattr(result, "title", None) or stem
    body = f"# {title}\n\n"
    text = getattr(result, "text", None)
    if isinstance(text, str) and text:
        body += "> " + text.replace("\n", "\n> ") + "\n\n"
    return body + markdown_table(result.rows())


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts as a GitHub-flavoured Markdown table (columns from all rows, in order)."""
    if not rows:
        return "_(empty)_\n"
    cols = list(dict.fromkeys(k for r in rows for k in r))

    def cell(value: Any) -> str:
        return ("" if value is None else str(value)).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"
