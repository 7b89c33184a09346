"""``output=markdown``: a Markdown report (summary + table) in the run directory."""
from taskdeck import Formatter, hookimpl
from taskdeck.io import atomic_write_text


def markdown_table(rows: list[dict]) -> str:
    """Rows of dicts as a GitHub-flavoured Markdown table (columns from all rows, in order)."""
    if not rows:
        return "_(empty)_\n"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    esc = lambda v: ("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(esc(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


class MarkdownFormatter(Formatter):
    name = "markdown"
    description = "write <task>.md (a heading, the summary and a table)"
    extension = "md"

    def write(self, result, run_dir, stem, stream):
        return atomic_write_text(run_dir / f"{stem}.{self.extension}", to_markdown(result, stem))


def to_markdown(result, stem: str) -> str:
    """The result's own Markdown (``to_markdown``), else a heading, its text and a table."""
    if hasattr(result, "to_markdown"):
        return result.to_markdown()
    title = getattr(result, "title", None) or stem
    body = f"# {title}\n\n"
    text = getattr(result, "text", None)
    if isinstance(text, str) and text:
        body += "> " + text.replace("\n", "\n> ") + "\n\n"
    return body + markdown_table(result.rows())


@hookimpl
def register_formatters(register):
    register(MarkdownFormatter())
