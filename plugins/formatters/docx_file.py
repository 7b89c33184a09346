"""``output=docx``: the Markdown report as a Word document (python-docx): headings, paragraphs,
lists, tables (the minutes' action items), code."""

import io

from taskdeck import hookimpl
from taskdeck.helpers.document import Bullets, Code, DocumentFormatter, Heading, Paragraph, Table, blocks, plain, spans


class DocxFormatter(DocumentFormatter):
    name = "docx"
    description = "write <task>.docx (the report as a Word document; needs python-docx)"
    extension = "docx"
    module, package = "docx", "python-docx"

    def render(self, markdown, title):
        return docx_bytes(markdown, title)


def docx_bytes(markdown: str, title: str) -> bytes:
    """``markdown`` laid out as a .docx file, the document's title property set to ``title``."""
    import docx
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.title = title
    for block in blocks(markdown):
        if isinstance(block, Heading):
            if block.level == 1:
                document.core_properties.title = plain(block.text)
            _runs(document.add_heading(level=min(block.level, 9)), block.text)
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph(style="Quote" if block.quote else None)
            for n, line in enumerate(block.lines):
                if n:
                    paragraph.add_run().add_break()
                _runs(paragraph, line)
        elif isinstance(block, Bullets):
            for item in block.items:
                _runs(document.add_paragraph(style="List Bullet"), item)
        elif isinstance(block, Table):
            width = max(len(block.header), *(len(r) for r in block.rows)) if block.rows else len(block.header)
            table = document.add_table(rows=1 + len(block.rows), cols=width, style="Table Grid")
            for r, cells in enumerate([block.header, *block.rows]):
                for c, text in enumerate(cells[:width]):
                    cell = table.cell(r, c)
                    _runs(cell.paragraphs[0], text, bold=r == 0)
            document.add_paragraph()
        elif isinstance(block, Code):
            run = document.add_paragraph().add_run(block.text)
            run.font.name = "Courier New"
            run.font.size = Pt(9)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _runs(paragraph, text: str, bold: bool = False) -> None:
    for span in spans(text):
        run = paragraph.add_run(span.text)
        run.bold = span.bold or bold or None
        run.italic = span.italic or None
        if span.code:
            run.font.name = "Courier New"


@hookimpl
def register_formatters(register):
    register(DocxFormatter())
