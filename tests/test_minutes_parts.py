"""The parts of task=minutes that need no model: chunking, merging, checks, speakers, rendering."""

import random

from taskdeck import Segment, Transcript
from taskdeck.helpers.structured import validate
from taskdeck.plugins.tasks.minutes import language_name
from taskdeck.plugins.tasks.minutes.extract import check_against, chunk_lines, merge_parts, stated, transcript_lines
from taskdeck.plugins.tasks.minutes.result import ActionItem, Attendee, Minutes
from taskdeck.plugins.tasks.minutes.schema import MINUTES_SCHEMA, NOT_STATED
from taskdeck.plugins.tasks.minutes.speakers import assign_speakers


def words(text: str) -> int:
    return len(text.split())


def test_chunks_cut_between_segments_and_drop_nothing():
    rng = random.Random(0)
    lines = [" ".join(f"w{i}_{j}" for j in range(rng.randint(1, 40))) for i in range(300)]
    chunks = chunk_lines(lines, words, budget=120)
    assert len(chunks) > 5
    assert all(words(c) <= 120 for c in chunks)
    assert "\n".join(chunks).split() == "\n".join(lines).split()  # every word once, in order
    boundaries = {ln for c in chunks for ln in c.split("\n")}
    assert boundaries == set(lines)  # no line was cut: all fit the budget


def test_a_line_longer_than_the_budget_is_cut_between_sentences_not_dropped():
    long_line = " ".join(f"Sentence number {i} is here." for i in range(60))
    chunks = chunk_lines(["short one", long_line, "short two"], words, budget=50)
    assert " ".join(chunks).split() == ("short one " + long_line + " short two").split()
    assert all(words(c) <= 50 for c in chunks)


def test_transcript_lines_keep_timestamps_and_speakers():
    t = Transcript(text="", segments=[Segment(5.2, 9.0, " Hello  all "), Segment(3725.0, 3730.0, "Late", speaker="S2")])
    assert transcript_lines(t) == ["[00:05] Hello all", "[1:02:05] S2: Late"]
    untimed = Transcript(text="line one\n\nline two\n")
    assert transcript_lines(untimed) == ["line one", "line two"]


def _part(**over):
    base = {
        "title": NOT_STATED,
        "date": NOT_STATED,
        "location": NOT_STATED,
        "attendees": [],
        "summary": "",
        "discussion_points": [],
        "decisions": [],
        "action_items": [],
        "next_steps": [],
    }
    base.update(over)
    assert validate(base, MINUTES_SCHEMA) is None
    return base


def test_merge_unions_attendees_and_dedupes_items():
    a = _part(
        title="Launch planning",
        attendees=[{"name": "Maria", "role": NOT_STATED}],
        decisions=["The launch moves to the fifteenth of April."],
        action_items=[{"owner": "Tom", "task": "Finish the firmware tests", "due": "13 March"}],
    )
    b = _part(
        date="3 March",
        attendees=[{"name": "Maria Lopez", "role": "product manager"}, {"name": "James Wilson", "role": "finance"}],
        decisions=["The launch moves to the fifteenth of April.", "The price is 2400 euros."],
        action_items=[
            {"owner": "Tom Baker", "task": "Finish the firmware tests", "due": "13 March"},
            {"owner": "James", "task": "Send the revised budget", "due": "9 March"},
        ],
    )
    merged = merge_parts([a, b])
    assert merged["title"] == "Launch planning" and merged["date"] == "3 March"
    assert merged["attendees"] == [
        {"name": "Maria Lopez", "role": "product manager"},
        {"name": "James Wilson", "role": "finance"},
    ]
    assert len(merged["decisions"]) == 2
    assert [i["owner"] for i in merged["action_items"]] == ["Tom", "James"]
    assert validate(merged | {"summary": "x"}, MINUTES_SCHEMA) is None


def test_checks_remove_what_the_transcript_does_not_support():
    transcript = "Maria: Tom, can you fix the firmware by Friday? Tom: Yes. We agreed to launch in April."
    data = _part(
        attendees=[{"name": "Maria", "role": NOT_STATED}, {"name": "Olivia", "role": "CEO"}],
        decisions=["Launch in April.", "The board approved the hiring plan for Berlin."],
        action_items=[
            {"owner": "Tom", "task": "fix the firmware", "due": "Friday"},
            {"owner": "Peter", "task": "order parts", "due": NOT_STATED},
        ],
        date="unknown",
        location="Lisbon, 2024",
    )
    notes = check_against(data, transcript + " We meet in Lisbon.")
    assert [a["name"] for a in data["attendees"]] == ["Maria"]
    assert data["decisions"] == ["Launch in April."]
    assert [i["owner"] for i in data["action_items"]] == ["Tom", NOT_STATED]
    assert data["date"] == NOT_STATED and data["location"] == "Lisbon"
    assert len(notes) == 4 and any("Olivia" in n for n in notes) and any("hiring plan" in n for n in notes)


def test_months_nobody_said_make_dates_not_stated():
    transcript = "Sarah, send the press kit by the twentieth of March. We met on Tuesday, the 3rd of March."
    data = _part(
        action_items=[
            {"owner": "Sarah", "task": "send the press kit", "due": "February 20th"},
            {"owner": "Sarah", "task": "send the press kit again", "due": "20 Mar"},
        ],
        date="Tuesday, 3 March",
    )
    notes = check_against(data, transcript)
    assert [i["due"] for i in data["action_items"]] == [NOT_STATED, "20 Mar"]
    assert data["date"] == "Tuesday, 3 March"
    assert len(notes) == 1 and "february" in notes[0]
    data = _part(date="May 3")  # "may" the verb is no month
    assert not check_against(data, "We may meet on the 3rd.") and data["date"] == "May 3"


def test_stated():
    assert not any(stated(v) for v in ("", None, "not stated", "Not stated.", "unknown", "N/A"))
    assert stated("3 March 2026")


def test_speakers_go_to_the_segments_they_overlap_most():
    segs = [Segment(0, 4, "a"), Segment(4, 9, "b"), Segment(20, 22, "c")]
    assign_speakers(segs, [(0, 5, "SPEAKER_1"), (5, 10, "SPEAKER_2")])
    assert [s.speaker for s in segs] == ["SPEAKER_1", "SPEAKER_2", ""]


def test_markdown_shows_every_part_and_marks_what_is_not_stated():
    m = Minutes(
        title="Trail e-bike launch",
        attendees=[Attendee("Maria Lopez", "product manager"), Attendee("Tom")],
        executive_summary="The launch moved.",
        decisions=["Launch on 15 April."],
        action_items=[ActionItem("Tom", "Test | sign off firmware", "13 March"), ActionItem(NOT_STATED, "Book")],
        next_steps=["Meet on 10 March."],
        checks=["removed attendee 'Olivia': not named in the transcript"],
        source="meeting.mp3",
        duration=201.0,
        models={"speech-to-text": "whisper-tiny.en"},
    )
    md = m.to_markdown()
    assert md.startswith("# Trail e-bike launch\n")
    for part in (
        "**Date:** not stated",
        "Maria Lopez (product manager), Tom",
        "## Summary",
        "## Decisions",
        "| Tom | Test \\| sign off firmware | 13 March |",
        "| not stated | Book | not stated |",
        "## Next steps",
        "_None recorded._",
        "Olivia",
        "meeting.mp3 (3:21)",
    ):
        assert part in md, part
    assert m.to_dict()["action_items"][0] == {"owner": "Tom", "task": "Test | sign off firmware", "due": "13 March"}


def test_language_codes_become_names():
    assert language_name("de") == "German" and language_name("Klingon") == "Klingon"


def test_minutes_as_a_web_page(tmp_path):
    import io

    from taskdeck.plugins.formatters.html_file import HtmlFormatter

    m = Minutes(title="Launch <planning>", action_items=[ActionItem("Tom", "Test the firmware", "13 March")])
    path = HtmlFormatter().write(m, tmp_path, "minutes", io.StringIO())
    page = path.read_text()
    assert page.startswith("<!doctype html>") and "<title>Launch &lt;planning&gt;</title>" in page
    assert "<td>Tom</td>" in page and "<h2>Action items</h2>" in page
