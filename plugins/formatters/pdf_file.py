"""``output=pdf``: the Markdown report as a PDF (fpdf2), laid out as the DOCX is, in the DejaVu
fonts that ship in matplotlib's wheel (or the system's), so accents, Greek and Cyrillic print."""

import importlib.util
from pathlib import Path

from taskdeck import MissingDependencyError, hookimpl
from taskdeck.helpers.document import Bullets, Code, DocumentFormatter, Heading, Paragraph, Table, blocks, plain, spans

_SYSTEM_FONTS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu-sans-fonts"))
_FONT_FILES = {
    ("body", ""): "DejaVuSans.ttf",
    ("body", "B"): "DejaVuSans-Bold.ttf",
    ("body", "I"): "DejaVuSans-Oblique.ttf",
    ("body", "BI"): "DejaVuSans-BoldOblique.ttf",
    ("mono", ""): "DejaVuSansMono.ttf",
}
_HEADING_PT = {1: 18, 2: 14, 3: 12}
_BODY_PT = 10.5
_LINE_MM = 5.4


class PdfFormatter(DocumentFormatter):
    name = "pdf"
    description = "write <task>.pdf (the report as an A4 document; needs fpdf2 and matplotlib's fonts)"
    extension = "pdf"
    module, package = "fpdf", "fpdf2"

    def render(self, markdown, title):
        return pdf_bytes(markdown, title)


def font_folder() -> Path:
    """Where DejaVu Sans lies: matplotlib's own copy, else the system's."""
    spec = importlib.util.find_spec("matplotlib")
    folders = [Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"] if spec and spec.origin else []
    for folder in [*folders, *_SYSTEM_FONTS]:
        if all((folder / name).is_file() for name in _FONT_FILES.values()):
            return folder
    raise MissingDependencyError("matplotlib", "output=pdf (for its DejaVu fonts)", "documents")


def pdf_bytes(markdown: str, title: str) -> bytes:
    """``markdown`` laid out on A4 pages; the document's title is its first heading, else ``title``."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    folder = font_folder()
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    for (family, style), name in _FONT_FILES.items():
        pdf.add_font(family, style, folder / name)
    pdf.add_page()
    pdf.set_title(title)
    left = pdf.l_margin
    titled = False

    def write_spans(text: str, size: float = _BODY_PT, bold: bool = False, italic: bool = False) -> None:
        for span in spans(text):
            if span.code:
                pdf.set_font("mono", "", size - 1)
            else:
                style = ("B" if span.bold or bold else "") + ("I" if span.italic or italic else "")
                pdf.set_font("body", style, size)
            pdf.write(_LINE_MM, span.text)

    for block in blocks(markdown):
        if isinstance(block, Heading):
            if block.level == 1 and not titled:
                pdf.set_title(plain(block.text))
                titled = True
            size = _HEADING_PT.get(block.level, _BODY_PT + 1)
            pdf.ln(2 if pdf.get_y() > pdf.t_margin + 1 else 0)
            pdf.set_font("body", "B", size)
            pdf.multi_cell(0, size * 0.5, plain(block.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
        elif isinstance(block, Paragraph):
            if block.quote:
                pdf.set_left_margin(left + 6)
                pdf.set_x(left + 6)
            for line in block.lines:
                write_spans(line, italic=block.quote)
                pdf.ln(_LINE_MM)
            pdf.set_left_margin(left)
            pdf.ln(2)
        elif isinstance(block, Bullets):
            for item in block.items:
                pdf.set_font("body", "", _BODY_PT)
                pdf.set_x(left + 2)
                pdf.write(_LINE_MM, "•")
                pdf.set_left_margin(left + 7)
                pdf.set_x(left + 7)
                write_spans(item)
                pdf.ln(_LINE_MM)
                pdf.set_left_margin(left)
            pdf.ln(2)
        elif isinstance(block, Table):
            rows = [block.header, *block.rows]
            width = max(len(r) for r in rows)
            longest = [max((len(plain(r[c])) for r in rows if c < len(r)), default=1) for c in range(width)]
            pdf.set_font("body", "", _BODY_PT - 0.5)
            with pdf.table(
                col_widths=[min(max(n, 6), 60) for n in longest],
                text_align="LEFT",
                line_height=_LINE_MM,
                headings_style=FontFace(emphasis="BOLD", fill_color=(236, 236, 236)),
                borders_layout="SINGLE_TOP_LINE",
            ) as table:
                for cells in rows:
                    row = table.row()
                    for c in range(width):
                        row.cell(plain(cells[c]) if c < len(cells) else "")
            pdf.ln(3)
        elif isinstance(block, Code):
            pdf.set_font("mono", "", 8)
            pdf.set_fill_color(245, 245, 245)
            pdf.multi_cell(0, 4, block.text, fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
    return bytes(pdf.output())


@hookimpl
def register_formatters(register):
    register(PdfFormatter())
