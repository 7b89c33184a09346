"""``output=markdown``: a Markdown report (summary + table) in the run directory."""

from taskdeck import Formatter, hookimpl
from taskdeck.helpers.markdown import to_markdown
from taskdeck.io import atomic_write_text


class MarkdownFormatter(Formatter):
    name = "markdown"
    description = "write <task>.md (a heading, the summary and a table)"
    extension = "md"

    def write(self, result, run_dir, stem, stream):
        return atomic_write_text(run_dir / f"{stem}.{self.extension}", to_markdown(result, stem))


@hookimpl
def register_formatters(register):
    register(MarkdownFormatter())
