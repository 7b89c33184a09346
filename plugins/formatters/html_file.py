"""``output=html``: the Markdown report as a standalone HTML page (Python-Markdown)."""

import html
import importlib.util

from taskdeck import Formatter, MissingDependencyError, hookimpl
from taskdeck.helpers.markdown import to_markdown
from taskdeck.io import atomic_write_text

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3rem .6rem;"
    "text-align:left}"
)


class HtmlFormatter(Formatter):
    name = "html"
    description = "write <task>.html (the report as a web page; the Markdown ones need the 'markdown' package)"
    extension = "html"

    def write(self, result, run_dir, stem, stream):
        body = result.to_html()
        if body is None:
            if importlib.util.find_spec("markdown") is None:
                raise MissingDependencyError("markdown", "output=html", "html")
            import markdown

            body = markdown.markdown(to_markdown(result, stem), extensions=["tables", "md_in_html"])
        title = html.escape(getattr(result, "title", None) or stem)
        page = (
            f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
        )
        return atomic_write_text(run_dir / f"{stem}.{self.extension}", page)


@hookimpl
def register_formatters(register):
    register(HtmlFormatter())
