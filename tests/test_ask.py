"""task=ask end to end, offline on the embedded packs: an archive holding the clinic meeting
(its script as the transcript, its minutes' decisions and action items), questions answered by
the default chat model with quotes, "not found", open action items by owner."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, cli

from taskdeck.helpers.transcripts import read_transcript
from taskdeck.plugins.tasks.minutes.archiving import index_minutes

CLINIC = REPO / "examples" / "meeting" / "clinic_meeting.txt"
MINUTES = {  # as minutes.json holds them
    "title": "Weekly operations meeting",
    "date": "Wednesday, the 17th of September",
    "source": str(CLINIC),
    "decisions": [
        {"text": "Online booking goes live on Monday, the 6th of October",
         "evidence": "Priya: Thanks, Omar. Then online booking goes live on Monday, the sixth of October."},
    ],
    "action_items": [
        {"owner": "Omar Haddad", "task": "Have the text message reminders working", "due": "next Friday",
         "evidence": "Omar: I'll have the reminders working by next Friday."},
        {"owner": "Daniel Brooks", "task": "Get three quotes for new chairs", "due": "within two weeks",
         "evidence": "Daniel: I'll get three quotes for new chairs within two weeks."},
    ],
}  # fmt: skip


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "archive.sqlite"
    index_minutes(MINUTES, read_transcript(str(CLINIC)), path, "runs/clinic")
    return path


def ask(tmp_path, archive, *args):
    proc = cli("task=ask", f"archive={archive}", *args, tmp_path=tmp_path)
    record = json.loads((tmp_path / "run" / "result.json").read_text()) if proc.returncode == 0 else {}
    return proc, record


def test_a_question_is_answered_with_the_words_that_say_it(tmp_path, archive):
    proc, record = ask(tmp_path, archive, "question=How many flu vaccine doses arrived?")
    assert proc.returncode == 0, proc.stderr
    result = record["result"]
    assert result["found"] and ("400" in result["answer"] or "four hundred" in result["answer"].lower())
    [quote] = [q for q in result["quotes"] if "four hundred doses" in q["text"]]
    assert quote["speaker"] == "Grace" and quote["meeting"] == "Weekly operations meeting"
    assert quote["date"] == "Wednesday, the 17th of September" and quote["time"] == ""  # a transcript has no times
    assert quote["text"] in CLINIC.read_text()  # word for word what was said
    assert "four hundred doses" in proc.stdout and record["metrics"]["support"] >= 0.5
    assert (tmp_path / "run" / "ask.md").read_text().startswith("# How many flu vaccine doses arrived?")


def test_a_question_no_meeting_answers_is_not_found(tmp_path, archive):
    proc, record = ask(tmp_path, archive, "question=What did we decide about the office parking spaces?")
    assert proc.returncode == 0, proc.stderr
    assert not record["result"]["found"] and record["result"]["quotes"] == []
    assert "Not found: nothing in the 1 meeting of the archive answers this." in proc.stdout


def test_open_action_items_by_owner_and_done(tmp_path, archive):
    proc, record = ask(tmp_path, archive, "owner=omar")
    assert proc.returncode == 0, proc.stderr
    [row] = record["result"]["sections"][0]["rows"]
    assert row["owner"] == "Omar Haddad" and row["due"] == "next Friday" and row["meeting"] == MINUTES["title"]
    proc, record = ask(tmp_path, archive, f"done={row['id']}")
    assert proc.returncode == 0 and "marked done" in proc.stdout
    proc, record = ask(tmp_path, archive, "owner=Omar")
    assert record["result"]["sections"][0]["rows"] == []
    assert "open items' owners: Daniel Brooks" in proc.stdout
    proc, record = ask(tmp_path, archive, "owner=all")
    assert [r["owner"] for r in record["result"]["sections"][0]["rows"]] == ["Daniel Brooks"]
    proc, record = ask(tmp_path, archive)  # the meetings
    assert [r["meeting"] for r in record["result"]["sections"][0]["rows"]] == [MINUTES["title"]]


@pytest.mark.parametrize(
    "args, line",
    [
        (("done=999",), "done=999: no action item has that id; ids: 1, 2"),
        (("question= ",), "question= is empty"),
        (("add=/nonexistent/run",), "add=/nonexistent/run: no minutes.json there"),
        (("top=0",), "top"),
    ],
)
def test_wrong_uses_are_one_line(tmp_path, archive, args, line):
    proc, _ = ask(tmp_path, archive, *args)
    assert proc.returncode != 0 and line in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_no_archive_yet_says_how_to_make_one(tmp_path):
    proc, _ = ask(tmp_path, tmp_path / "none.sqlite", "question=anything?")
    assert proc.returncode != 0 and "task=minutes adds every meeting it writes to it" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_run_made_before_is_added_from_its_directory(tmp_path):
    """add=<run dir> reads its minutes.json and the transcript file the minutes name (through
    task=minutes, found in the registry), and the archive then lists the meeting."""
    run = tmp_path / "old-run"
    run.mkdir()
    (run / "minutes.json").write_text(json.dumps(MINUTES))
    archive = tmp_path / "made.sqlite"
    proc, record = ask(tmp_path, archive, f"add={run}")
    assert proc.returncode == 0, proc.stderr
    [row] = record["result"]["sections"][0]["rows"]
    assert row["meeting"] == MINUTES["title"] and row["open items"] == 2 and row["run"] == str(run.resolve())
