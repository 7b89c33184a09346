"""output=docx and output=pdf: the Markdown report laid out as documents, opened again with
python-docx and pypdf and checked (headings, text, table cells, fonts for accents and Cyrillic)."""

import io

import docx
import pytest
from conftest import cli
from pypdf import PdfReader

from taskdeck import MissingDependencyError
from taskdeck.helpers.document import Bullets, Code, Heading, Paragraph, Table, blocks, spans
from taskdeck.plugins.formatters import pdf_file
from taskdeck.plugins.formatters.docx_file import DocxFormatter
from taskdeck.plugins.formatters.pdf_file import PdfFormatter
from taskdeck.plugins.tasks.minutes.result import ActionItem, Attendee, Decision, Minutes


def minutes(items: int = 2) -> Minutes:
    owners = ["Zoë Łukasiewicz", "Дмитрий"]
    return Minutes(
        title="Café launch review",
        date="Tuesday 10 March",
        attendees=[Attendee("Zoë Łukasiewicz", "product"), Attendee("Дмитрий")],
        executive_summary="The launch moved to **April** after the firmware test.",
        discussion_points=["Firmware test results", "Price of the 500 Wh battery"],
        decisions=[Decision("Launch on 15 April.")],
        action_items=[
            ActionItem(owners[i % 2], f"Task {i + 1} | sign off firmware", f"{i % 28 + 1} March") for i in range(items)
        ],
        next_meeting="Tuesday 17 March, 10:00",
        checks=["removed attendee 'Olivia': not named in the transcript"],
        source="meeting.mp3",
    )


def test_markdown_is_read_as_blocks_and_spans():
    md = minutes().to_markdown() + "\n```text\n  a  b\n```\n> quoted\n> on two lines\n"
    found = blocks(md)
    assert found[0] == Heading(1, "Café launch review")
    assert found[1] == Paragraph(["**Date:** Tuesday 10 March", "**Location:** not stated", found[1].lines[2]])
    table = next(b for b in found if isinstance(b, Table))
    assert table.header == ["Owner", "Action", "Due"]
    assert table.rows[0] == ["Zoë Łukasiewicz", "Task 1 | sign off firmware", "1 March"]
    assert Bullets(["Firmware test results", "Price of the 500 Wh battery"]) in found
    assert Heading(3, "Checks against the transcript") in found  # the <details> summary
    assert Code("  a  b") in found and Paragraph(["quoted on two lines"], quote=True) in found
    assert [(s.text, s.bold, s.italic) for s in spans("**Due:** _none_ in snake_case")] == [
        ("Due:", True, False), (" ", False, False), ("none", False, True), (" in snake_case", False, False)
    ]  # fmt: skip


def test_minutes_as_a_word_document(tmp_path):
    path = DocxFormatter().write(minutes(), tmp_path, "minutes", io.StringIO())
    assert path == tmp_path / "minutes.docx" and not list(tmp_path.glob(".*.tmp"))
    document = docx.Document(str(path))
    assert document.core_properties.title == "Café launch review"
    styled = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    assert styled[0] == ("Heading 1", "Café launch review")
    assert ("Heading 2", "Action items") in styled and ("Heading 3", "Checks against the transcript") in styled
    assert ("List Bullet", "Price of the 500 Wh battery") in styled
    date = next(p for p in document.paragraphs if p.text.startswith("Date:"))
    assert date.runs[0].bold and date.text.splitlines()[:2] == ["Date: Tuesday 10 March", "Location: not stated"]
    summary = next(p for p in document.paragraphs if p.text.startswith("The launch moved"))
    assert [r.text for r in summary.runs if r.bold] == ["April"]
    [table] = document.tables
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells == [
        ["Owner", "Action", "Due"],
        ["Zoë Łukasiewicz", "Task 1 | sign off firmware", "1 March"],
        ["Дмитрий", "Task 2 | sign off firmware", "2 March"],
    ]


def test_minutes_as_a_pdf_that_keeps_every_character(tmp_path):
    path = PdfFormatter().write(minutes(), tmp_path, "minutes", io.StringIO())
    reader = PdfReader(path)
    assert reader.metadata.title == "Café launch review" and len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    lines = text.splitlines()
    assert lines[0] == "Café launch review" and "Date: Tuesday 10 March" in lines
    for part in (
        "Summary",
        "• Firmware test results",
        "Action items",
        "Checks against the transcript",
        "Tuesday 17 March, 10:00",
    ):
        assert part in text, part
    assert "Owner Action Due" in lines
    assert (
        "Zoë Łukasiewicz Task 1 | sign off firmware 1 March" in lines
        and "Дмитрий Task 2 | sign off firmware 2 March" in lines
    )
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(fonts[k].get_object()["/BaseFont"]).split("+")[-1] for k in fonts}
    assert names >= {"DejaVuSansBook", "DejaVuSansBold", "DejaVuSansOblique"}, names


def test_a_long_table_runs_on_to_the_next_page(tmp_path):
    path = PdfFormatter().write(minutes(items=60), tmp_path, "minutes", io.StringIO())
    reader = PdfReader(path)
    assert len(reader.pages) >= 2
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert all(f"Task {i} | sign off firmware" in text for i in range(1, 61))
    assert reader.pages[1].extract_text().splitlines()[0] == "Owner Action Due"  # the header repeats


def test_no_font_is_one_line_naming_the_fix(monkeypatch):
    monkeypatch.setattr(pdf_file, "_SYSTEM_FONTS", ())
    monkeypatch.setattr(pdf_file.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'taskdeck\[documents\]'"):
        pdf_file.font_folder()


def test_any_task_writes_documents(run_in_process):
    """A tokenizer's report (a list, a code block, a table) through the real runner."""
    args = ("task=tokenize", "text='Hi there'", "model=smollm2-135m", "output=[docx,pdf]")
    _, _, run_dir, _ = run_in_process(*args)
    assert {p.name for p in run_dir.iterdir()} >= {"tokenize.docx", "tokenize.pdf", "result.json"}
    document = docx.Document(str(run_dir / "tokenize.docx"))
    assert document.paragraphs[0].text == "Tokens: smollm2-135m"
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows[0][:3] == ["position", "id", "token"] and [r[2] for r in rows[1:]] == ["Hi", "Ġthere"]
    text = PdfReader(run_dir / "tokenize.pdf").pages[0].extract_text()
    assert text.startswith("Tokens: smollm2-135m") and "Ġthere" in text


def test_a_pdf_run_prints_no_font_tables(tmp_path):
    """fontTools logs each table it subsets at INFO; the console keeps to the result."""
    proc = cli("task=tokenize", "text='Hi there'", "model=smollm2-135m", "output=[text,pdf]", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "fontTools" not in proc.stdout + proc.stderr and (tmp_path / "run" / "tokenize.pdf").is_file()
