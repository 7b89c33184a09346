"""The parts of task=minutes that need no model: numbered lines, voices named from what is
said, commitments and due dates as said, the checks against the transcript, speakers put on
words, rendering."""

import datetime as dt

from taskdeck import Segment, Transcript, Turn, Word
from taskdeck.helpers.speakers import label_segments
from taskdeck.helpers.structured import validate
from taskdeck.helpers.transcripts import read_transcript
from taskdeck.plugins.tasks.minutes import language_name
from taskdeck.plugins.tasks.minutes.checks import (
    check_action_items,
    check_dates,
    check_decisions,
    check_people_and_dates,
    check_summary,
    stated,
)
from taskdeck.plugins.tasks.minutes.dates import day_number, said_dates
from taskdeck.plugins.tasks.minutes.evidence import (
    Line,
    commitments,
    due_as_said,
    in_room,
    in_room_clause,
    numbered_lines,
    same_person,
    when_tokens,
)
from taskdeck.plugins.tasks.minutes.real_talk import backchannel, clean
from taskdeck.plugins.tasks.minutes.result import ActionItem, Attendee, Decision, Minutes
from taskdeck.plugins.tasks.minutes.schema import ACTIONS_SCHEMA, NOT_STATED, facts_schema
from taskdeck.plugins.tasks.minutes.speakers import anonymous_labels, name_speakers

MEETING = [
    ("S1", "Good morning. I'm Maria Lopez and I'll chair today."),
    ("S2", "Thanks, Maria. The firmware still needs a week of testing."),
    ("S1", "Then the launch moves to the fifteenth of April. Tom, can you finish the firmware tests?"),
    ("S2", "Yes, I'll have them signed off by Friday, the 13th of March."),
    ("S3", "I finished the price survey yesterday."),
    ("S1", "Sarah, could you send the press kit? And I will book the venue by the end of this week."),
    ("S3", "Sure, I'll send the draft press kit my 20th of March."),
    ("S1", "We meet again next Tuesday at ten."),
]


def lines(meeting=MEETING):
    return [Line(i, who, text) for i, (who, text) in enumerate(meeting, 1)]


def data(**over):
    base = {
        "title": "Launch", "date": NOT_STATED, "location": NOT_STATED, "next_meeting": NOT_STATED,
        "attendees": [{"name": "Maria Lopez", "role": "chair"}, {"name": "Tom", "role": NOT_STATED},
                      {"name": "Sarah", "role": NOT_STATED}],
        "speakers": {"S1": "Maria Lopez", "S2": "Tom", "S3": "Sarah"},
        "action_items": [], "discussion_points": [], "decisions": [], "chunks": 1,
    }  # fmt: skip
    base.update(over)
    return base


def test_numbered_lines_join_a_speakers_segments_and_cut_nothing():
    segs = [Segment(0, 2, " Hello  all "), Segment(2, 4, "again", speaker="S1"), Segment(4, 5, "more", speaker="S1")]
    segs.append(Segment(5, 9, " ".join(f"Sentence {i} is long enough here." for i in range(20)), speaker="S2"))
    got = numbered_lines(Transcript(text="", segments=segs))
    assert [(ln.number, ln.speaker) for ln in got[:2]] == [(1, ""), (2, "S1")] and got[1].text == "again more"
    assert all(len(ln.text.split()) <= 60 for ln in got) and len(got) > 3
    assert " ".join(ln.text for ln in got).split() == " ".join(s.text for s in segs).split()
    assert got[1].render() == "2. S1: again more" and got[0].render() == "1. Hello all"


def test_named_transcript_lines_give_speakers(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Anna: Ben, can you ship the fix by Wednesday?\nBen: Yes, Wednesday works.\n")
    t = read_transcript(str(path))
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("Anna", "Ben, can you ship the fix by Wednesday?"),
        ("Ben", "Yes, Wednesday works."),
    ]
    plain = tmp_path / "p.txt"
    plain.write_text("Note: this is prose.\nIt has lines.\nAnd no speakers.\n")
    assert {s.speaker for s in read_transcript(str(plain)).segments} == {""}


def test_voices_get_names_from_introductions_thanks_and_answers():
    found = lines()
    assert anonymous_labels(found) == ["S1", "S2", "S3"]
    proposed = [{"label": "S1", "name": "Tom"}, {"label": "S2", "name": "Peter Pan"}, {"label": "S3", "name": "Sarah"}]
    names, notes = name_speakers(proposed, found, ["Maria Lopez", "Tom", "Sarah"])
    assert names == {"S1": "Maria Lopez", "S2": "Tom", "S3": "Sarah"}
    assert any("S1" in n and "addresses Tom" in n for n in notes) and any("Peter Pan" in n for n in notes)


def test_two_voices_never_share_a_name():
    said = [Line(1, "S1", "Omar, how is the booking system?"), Line(2, "S4", "It is installed."),
            Line(3, "S1", "Thanks, Omar."), Line(4, "S3", "I will get three quotes for new chairs.")]  # fmt: skip
    names, notes = name_speakers(
        [{"label": "S3", "name": "Omar"}, {"label": "S4", "name": "Omar"}], said, ["Omar Hadded"]
    )
    assert names == {"S4": "Omar Hadded"} and notes == ["speaker S3: not 'Omar' (that is S4's name)"]


def test_a_phone_introduction_names_its_voice_and_a_place_is_no_attendee():
    """Two people on a real call (pyannote's sample, as tiny.en hears it): "This is Diane" names
    its voice; "Texas" (heard for "in Texas") is no attendee once both voices have names."""
    call = [
        ("S2", "Okay. I thought, you know, I heard a beep. This is Diane in New Jersey, and"),
        ("S1", "I'm Sheila and Texas originally from Chicago."),
        ("S2", "Oh, I'm originally from Chicago also. I'm in New Jersey now, though."),
    ]
    found = lines(call)
    names, _ = name_speakers([{"label": "S1", "name": NOT_STATED}], found, ["Diane", "Sheila", "Texas"])
    assert names == {"S1": "Sheila", "S2": "Diane"}
    people = [{"name": n, "role": NOT_STATED} for n in ("Diane", "Sheila", "Texas")]
    d = data(attendees=people, speakers=names)
    notes = check_people_and_dates(d, found)
    assert [a["name"] for a in d["attendees"]] == ["Diane", "Sheila"]
    assert notes == ["removed attendee 'Texas': not one of the 2 voices"]
    d = data(attendees=[dict(p) for p in people], speakers={"S1": "Sheila"})  # a voice without a name
    check_people_and_dates(d, found)
    assert [a["name"] for a in d["attendees"]] == ["Diane", "Sheila", "Texas"]  # nothing to tell them by


def test_a_doubted_known_voice_is_not_taken_as_the_meetings_voice():
    """A known voice the transcript contradicts ("Tom Baker" greeted as Grace) is no proof of
    who attended: the people the transcript names stay, the doubted name goes unless said."""
    call = [("Tom Baker", "Thanks. Grace here, the venue is booked."), ("S2", "Great, Omar will send the invites.")]
    people = [{"name": n, "role": NOT_STATED} for n in ("Grace", "Omar")]
    d = data(attendees=people, speakers={"S2": "Priya"})
    notes = check_people_and_dates(d, lines(call), doubted={"Tom Baker"})
    assert [a["name"] for a in d["attendees"]] == ["Grace", "Omar", "Priya"] and notes == []
    d = data(attendees=[dict(p) for p in people], speakers={"S2": "Priya"})
    notes = check_people_and_dates(d, lines(call))  # trusted, the known voice pushes Grace and Omar out
    assert [a["name"] for a in d["attendees"]] == ["Priya", "Tom Baker"] and len(notes) == 2


def test_commitments_are_found_with_their_owner_and_due_date_as_said():
    found = commitments(lines(), {"S1": "Maria Lopez", "S2": "Tom", "S3": "Sarah"})
    assert [(c["owner"], c["task"], c["due"]) for c in found] == [
        ("Tom", "Finish the firmware tests", "Friday, the 13th of March"),  # the answer's date
        ("Sarah", "Send the press kit", "20th of March"),  # "my" misheard for "by"
        ("Maria Lopez", "Book the venue", "the end of this week"),
    ]  # "I'll chair today" is no task; the finished survey is none either


#: Real talk as AMI transcribes it: markers, fillers, backchannels, an in-room "I'll", a
#: proposal nobody takes up, a request answered by a bare "Yeah", and a commitment made by "we".
REAL_TALK = """Project Manager: Uh okay . {vocalsound} So first I will introduce myself , I'm Bart .
Marketing: Mm-hmm .
Project Manager: Um I'll just pass the pen to our uh {disfmarker} our designer .
User Interface: Yeah .
Industrial Designer: Maybe we could uh make it out of titanium or something {disfmarker}
Project Manager: Hmm .
Marketing: I I think the the price is is too high for that .
Project Manager: Right . Frank , can you look into the T_V_ market trends ?
Marketing: Yeah .
Project Manager: And I will put the minutes in the project folder after the meeting .
Industrial Designer: Okay .
Project Manager: So we'll each work on our own part of the design before the next meeting .
User Interface: Mm .
"""


def test_real_talk_is_read_clean_and_quoted_verbatim(tmp_path):
    path = tmp_path / "real.txt"
    path.write_text(REAL_TALK)
    found = numbered_lines(read_transcript(str(path)))
    assert [ln.speaker for ln in found] == ["Project Manager", "Industrial Designer", "Marketing", "Project Manager",
                                            "Marketing", "Project Manager"]  # fmt: skip
    assert found[0].text == "okay. So first I will introduce myself, I'm Bart. I'll just pass the pen to our designer."
    assert found[2].text == "I think the price is too high for that."
    assert found[4].text == "Yeah."  # answers a request: kept
    assert "{disfmarker}" in found[0].verbatim and "{" not in " ".join(ln.text for ln in found)
    assert clean("the T_V_ and D_V_D_ player") == "the TV and DVD player"
    assert backchannel("Mm-hmm .") and backchannel("{vocalsound}") and backchannel("Yeah , okay .")
    assert not backchannel("Agreed .") and not backchannel("Yeah , I'll do it .")


def test_real_talk_commitments_are_work_for_after_the_meeting(tmp_path):
    path = tmp_path / "real.txt"
    path.write_text(REAL_TALK)
    found = commitments(numbered_lines(read_transcript(str(path))), {})
    assert [(c["owner"], c["task"]) for c in found] == [
        ("Frank", "Look into the TV market trends"),
        ("Project Manager", "Put the minutes in the project folder after the meeting"),
        ("all", "Each work on our own part of the design"),
    ]  # not "introduce myself", "pass the pen", nor the titanium nobody took up
    asked = commitments([Line(1, "Project Manager", "User Interface Designer, Roo, I would like to see the concept."),
                         Line(2, "Project Manager", "And Sarah, I'd like you to call the supplier.")], {})  # fmt: skip
    assert [(c["owner"], c["task"]) for c in asked] == [
        ("User Interface Designer", "Deliver the concept"),
        ("Sarah", "Call the supplier"),
    ]
    assert (
        found[2]["due"] == "before the next meeting"
        and in_room("Introduce myself")
        and in_room("Start with the presentation")
    )
    assert in_room_clause("We do have to decide this meeting on our target audience.")
    meeting = lines(
        [("S1", "We have to decide in this meeting. Yeah. We need to have the functions and our target audience.")]
    )
    d = data(action_items=[{"owner": "Maria Lopez", "task": "Finalize the target audience", "due": "", "line": 1}])
    notes = check_action_items(d, meeting)
    assert not d["action_items"] and "done in the meeting itself" in notes[0]
    assert not in_room_clause("I will put the minutes from this meeting in our project folder.")
    assert not same_person("Industrial Designer", "User Interface Designer")  # roles sharing a word
    assert same_person("Tom", "Tom Baker") and same_person("User Interface", "User Interface Designer")
    assert not in_room("Send the report") and not in_room("Present the concept", "I'll present it next meeting")


def test_spoken_numbers_are_compared_as_digits():
    assert when_tokens("a selling price of twenty five Euros") == when_tokens("25 euro") == {"25"}
    assert when_tokens("maximal twelve and a half Euros") == when_tokens("12.50 Euro") == {"12.5"}
    assert when_tokens("the twenty-first of March") == {"21", "march"}


def test_due_dates_are_kept_as_said():
    assert due_as_said(["I'll get three quotes within two weeks."]) == "within two weeks"
    assert due_as_said(["I'll train them before the end of the month."]) == "before the end of the month"
    assert due_as_said(["I'll write it by tomorrow."]) == "tomorrow"
    assert due_as_said(["I'll send it on Monday."]) == "Monday"
    assert due_as_said(["Done by the twentieth of March, promise."]) == "the twentieth of March"
    assert due_as_said(["I'll have it working next Friday."]) == "next Friday"
    assert due_as_said(["No date here."]) is None


def test_action_items_are_held_to_their_lines():
    d = data(
        action_items=[
            {"owner": "Maria Lopez", "task": "Finish the firmware tests", "due": "30 March", "line": 3},  # Tom's
            {"owner": "Sarah", "task": "Finish the price survey", "due": NOT_STATED, "line": 5},  # done already
            {"owner": "Tom", "task": "Order a new factory in Berlin", "due": NOT_STATED, "line": 2},  # never said
            {"owner": "Maria Lopez", "task": "Meet again next Tuesday", "due": NOT_STATED, "line": 8},
        ],
        next_meeting="next Tuesday at ten",
    )
    notes = check_action_items(d, lines())
    got = [(a["owner"], a["task"], a["due"], a["line"]) for a in d["action_items"]]
    assert got == [
        ("Tom", "Finish the firmware tests", "Friday, the 13th of March", 3),
        ("Sarah", "Send the press kit", "20th of March", 6),
        ("Maria Lopez", "Book the venue", "the end of this week", 6),
    ]
    assert (
        d["action_items"][0]["evidence"].startswith("Maria Lopez: Then the launch")
        and "/ Tom: Yes" in (d["action_items"][0]["evidence"])
    )
    assert any("reports it done" in n for n in notes) and any("no line" in n for n in notes)
    assert len(notes) == 3 and "Meet again" in notes[2]


def test_decisions_need_their_line_and_their_numbers():
    d = data(
        decisions=[
            {"decision": "The launch moves to the fifteenth of April", "line": 3},
            {"decision": "The launch moves to the 16th of April", "line": 3},  # a date nobody said
            {"decision": "The board approved the hiring plan for Berlin", "line": 2},
            {"decision": "Tom will finish the firmware tests", "line": 3},  # a question, and an action item
        ],
        action_items=[{"owner": "Tom", "task": "Finish the firmware tests", "due": NOT_STATED, "line": 3}],
    )
    notes = check_decisions(d, lines())
    assert [x["text"] for x in d["decisions"]] == ["The launch moves to the fifteenth of April"]
    assert d["decisions"][0]["evidence"].startswith("Maria Lopez: Then the launch")
    assert len(notes) == 3


def test_a_decision_cited_on_the_wrong_line_is_found_on_its_own():
    """Late in a meeting (line 13, past the few lines that say its date), a decision cited at
    the wrong line is anchored at its own."""
    found = lines([("S1", f"Small talk, part {i}.") for i in range(10)] + MEETING)
    d = data(decisions=[{"decision": "The launch moves to the fifteenth of April", "line": 18}])
    assert check_decisions(d, found) == []
    assert [(x["line"], x["evidence"][:30]) for x in d["decisions"]] == [(13, "Maria Lopez: Then the launch m")]


def test_summary_sentences_the_transcript_does_not_support_are_dropped():
    d = data(action_items=[{"owner": "Sarah", "task": "Send the press kit", "due": "the 20th of March", "line": 6}])
    summary = (
        "The launch moves to the fifteenth of April. "
        "The press kit was sent to everyone. "  # an open task reported done
        "The venue was booked for the 13th of March. "  # the 13th is the firmware's date
        "Sarah will send the press kit by the 20th of March."
    )
    kept, notes = check_summary(summary, d, lines())
    assert kept == "The launch moves to the fifteenth of April. Sarah will send the press kit by the 20th of March."
    assert len(notes) == 2


def test_a_participle_that_describes_a_thing_is_not_work_reported_done():
    from taskdeck.plugins.tasks.minutes.evidence import states_done

    assert states_done("the press kit was sent to everyone") and states_done("sarah prepared the press kit")
    assert not states_done("tom lends us two finished bikes for the photo shoot")
    assert not states_done("action items include sarah preparing the press kit")


def test_attendees_dates_and_years_nobody_said():
    d = data(
        attendees=[{"name": "Maria Lopez", "role": "chair"}, {"name": "Olivia", "role": "CEO"}],
        speakers={"S1": "Maria Lopez"},
        date="February 3, 2024",
        location="Lisbon, 2024",
    )
    found = lines() + [Line(9, "S1", "We are in Lisbon on the 3rd of March.")]
    notes = check_people_and_dates(d, found)
    assert [a["name"] for a in d["attendees"]] == ["Maria Lopez"]  # Olivia is never named
    assert d["date"] == NOT_STATED and d["location"] == "Lisbon"
    assert len(notes) == 3


def test_dates_are_read_in_the_forms_people_say_them():
    assert [day_number(d) for d in ("13th", "thirteenth", "twenty-first", "30", "thirtieth", "first")] == [
        13, 13, 21, 30, 30, 1,
    ]  # fmt: skip
    found = said_dates("by Friday, the thirtieth of March, or March 3rd; Tuesday April the 21st")
    assert [(d.weekday, d.day, d.month) for d in found] == [(4, 30, 3), (None, 3, 3), (1, 21, 4)]


def test_a_date_whose_weekday_is_wrong_is_read_as_the_number_it_sounds_like():
    """Whisper hears "Friday, the thirteenth of March" as "the 30th"; 30 March 2026 is a Monday."""
    lines = [
        Line(1, "S1", "It's Tuesday, the third of March."),
        Line(2, "S1", "Tom, can you finish the tests by Friday, the 30th of March?"),
        Line(3, "S2", "Yes, signed off by the 30th of March."),
        Line(4, "S1", "And the party is on Saturday, the 14th of March."),  # 14 March 2026 is a Saturday
        Line(5, "S1", "The review is on Friday, the 16th of April."),  # a Thursday in 2026, no sound-alike
        Line(6, "S1", "We meet again Monday, the 30th of March."),  # right as said: not changed elsewhere
    ]
    data = {
        "date": "Tuesday, the third of March",
        "next_meeting": "Monday, the 30th of March",
        "action_items": [{"owner": "Tom", "task": "Finish the tests", "due": "the 30th of March"}],
        "decisions": [{"text": "The review moves to the seventeenth of April", "evidence": ""}],
    }
    notes = check_dates(data, lines, today=dt.date(2026, 12, 2))
    assert data["action_items"][0]["due"] == "the 13th of March"
    assert len(notes) == 2 and "line 2 says Friday, the 30th of March" in notes[0] and "13th" in notes[0]
    assert data["next_meeting"] == "Monday, the 30th of March"  # said with its right weekday
    assert "line 5 says Friday, the 16th of April" in notes[1] and "a Thursday" in notes[1]
    assert data["decisions"][0]["text"] == "The review moves to the seventeenth of April"
    # the meeting's own date fixes the year: without a weekday there is nothing to check against
    undated = {**data, "date": "the third of March", "action_items": [{"task": "x", "due": "the 30th of March"}]}
    assert check_dates(undated, lines, today=dt.date(2026, 12, 2)) == []
    assert undated["action_items"][0]["due"] == "the 30th of March"


def test_schemas_accept_what_the_passes_ask_for():
    facts = {"title": "t", "date": "d", "location": "l", "next_meeting": "n", "attendees": []}
    assert validate({**facts, "speakers": [{"label": "S1", "name": "Maria"}]}, facts_schema(["S1", "S2"])) is None
    assert validate({**facts, "speakers": [{"label": "S9", "name": "Maria"}]}, facts_schema(["S1"])) is not None
    assert validate(facts, facts_schema()) is None
    item = {"owner": "Tom", "task": "x", "due": NOT_STATED, "line": 0}
    assert validate({"action_items": [item]}, ACTIONS_SCHEMA) is not None  # lines count from 1


def test_stated():
    assert not any(stated(v) for v in ("", None, "not stated", "Not stated.", "unknown", "N/A"))
    assert stated("3 March 2026")


def test_speakers_go_on_words_and_split_segments():
    words = [Word(0.0, 0.4, " Agreed."), Word(1.0, 1.4, " Agreed."), Word(2.0, 2.5, " Fine"), Word(2.5, 2.9, " then.")]
    segs = [Segment(0.0, 2.9, "Agreed. Agreed. Fine then.", words=words), Segment(20, 22, "c")]
    turns = [Turn(0.0, 0.6, "S1"), Turn(0.9, 1.5, "S2"), Turn(1.9, 3.0, "S1")]
    got = label_segments(segs, turns)
    assert [(s.speaker, s.text, s.start, s.end) for s in got] == [
        ("S1", "Agreed.", 0.0, 0.4),
        ("S2", "Agreed.", 1.0, 1.4),
        ("S1", "Fine then.", 2.0, 2.9),
        ("", "c", 20, 22),  # no turn within a second
    ]
    late = [
        Word(10 + i * 0.3, 10.3 + i * 0.3, f" {w}")
        for i, w in enumerate("I'll send the budget by Monday, the ninth.".split())
    ]
    turns = [Turn(9.0, 11.0, "S1"), Turn(11.0, 13.0, "S2")]  # the change heard three words late
    got = label_segments([Segment(10, 12.4, "I'll send the budget by Monday, the ninth.", words=late)], turns)
    assert [(s.speaker, s.text) for s in got] == [("S2", "I'll send the budget by Monday, the ninth.")]
    two = [Word(30 + i * 0.3, 30.3 + i * 0.3, f" {w}") for i, w in enumerate("This is Diane, and I'm Sheila.".split())]
    turns = [Turn(29.0, 30.7, "S1"), Turn(30.7, 33.0, "S2")]  # heard a word late: at the comma anyway
    got = label_segments([Segment(30, 31.8, "This is Diane, and I'm Sheila.", words=two)], turns)
    assert [(s.speaker, s.text) for s in got] == [("S1", "This is Diane,"), ("S2", "and I'm Sheila.")]
    ask = [Word(40 + i * 0.3, 40.3 + i * 0.3, f" {w}") for i, w in enumerate("Daniel, what would it cost?".split())]
    turns = [Turn(39.0, 40.4, "S2"), Turn(40.4, 42.0, "S1")]  # a name is no turn of its own
    got = label_segments([Segment(40, 41.5, "Daniel, what would it cost?", words=ask)], turns)
    assert [(s.speaker, s.text) for s in got] == [("S1", "Daniel, what would it cost?")]
    plain = [Segment(0, 4, "a"), Segment(4, 9, "b")]
    assert [s.speaker for s in label_segments(plain, [Turn(0, 5, "S1"), Turn(5, 10, "S2")])] == ["S1", "S2"]


def test_markdown_shows_every_part_and_marks_what_is_not_stated():
    m = Minutes(
        title="Trail e-bike launch",
        attendees=[Attendee("Maria Lopez", "product manager"), Attendee("Tom")],
        executive_summary="The launch moved.",
        decisions=[Decision("Launch on 15 April.", "Maria Lopez: Then the launch moves to the 15th of April.")],
        action_items=[
            ActionItem("Tom", "Test | sign off firmware", "13 March", "Tom: I'll test it."),
            ActionItem(NOT_STATED, "Book"),
        ],  # fmt: skip
        next_meeting="Tuesday 10 March, 10:00",
        speakers={"S1": "Maria Lopez"},
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
        "## Decisions\n\n- Launch on 15 April.",
        "| Tom | Test \\| sign off firmware | 13 March |",
        "| not stated | Book | not stated |",
        "## Next meeting\n\nTuesday 10 March, 10:00",
        "_None recorded._",
        "Olivia",
        "meeting.mp3 (3:21)",
    ):
        assert part in md, part
    record = m.to_dict()
    assert record["action_items"][0] == {
        "owner": "Tom", "task": "Test | sign off firmware", "due": "13 March", "evidence": "Tom: I'll test it.",
        "more": {},
    }  # fmt: skip
    assert record["decisions"][0]["evidence"].startswith("Maria Lopez:") and record["speakers"] == {"S1": "Maria Lopez"}


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
