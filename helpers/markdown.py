"""Results as Markdown, for the formatters that write Markdown or HTML."""

from __future__ import annotations

from taskdeck import Result
from taskdeck.results import markdown_table

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
