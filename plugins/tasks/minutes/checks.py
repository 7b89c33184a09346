"""The checks that hold extracted minutes to the transcript, done by code, in place.

Each returns notes on what it changed or removed (``Minutes.checks``): nothing is changed
silently. What the model writes is kept where the transcript supports it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from typing import Any, Optional

from .dates import describe, fits, meeting_year, ordinal, said_dates, with_day, wrong_weekdays
from .evidence import (
    FIRST_PERSON,
    GROUP,
    MONTHS,
    WEEKDAYS,
    Line,
    best_line,
    best_sentence,
    commitments,
    commits,
    content_words,
    due_as_said,
    full_name,
    in_room,
    in_room_clause,
    next_line,
    owner_from,
    reports_done,
    requested,
    same_person,
    sentences,
    support,
    unsupported_sentence,
    when_tokens,
    window,
)
from .schema import NOT_STATED
from .speakers import anonymous_labels

#: Owners that name the whole group: the item is owned by :data:`GROUP` ("all").
GROUP_WORDS = {"all", "everyone", "everybody", "we", "us", "team", "the team", "all of us", "the group", "group"}
MIN_SUPPORT = 0.34  # share of an item's content words its lines must hold
DECISION_SUPPORT = 0.5


def stated(value: Any) -> bool:
    text = str(value or "").strip().lower().strip(".")
    return bool(text) and text not in (NOT_STATED, "none", "n/a", "unknown", "not specified", "not mentioned")


def add_attendee(people: list[dict], person: dict) -> None:
    """Add ``{name, role}`` unless the same person is listed (then keep the longer name and a stated role)."""
    name = str(person.get("name", "")).strip()
    if not stated(name):
        return
    for known in people:
        if same_person(name, known["name"]):
            if len(name) > len(known["name"]):
                known["name"] = name
            if not stated(known.get("role")) and stated(person.get("role")):
                known["role"] = person["role"]
            return
    people.append({"name": name, "role": str(person.get("role") or NOT_STATED).strip()})


def speaker_names(data: dict, lines: Sequence[Line]) -> list[str]:
    """Names of the voices: the names found for diarized labels, and the speakers a named
    transcript gives (``Anna: ...``)."""
    names = list(data["speakers"].values())
    for line in lines:
        if line.speaker and line.speaker not in data["speakers"] and line.speaker not in names:
            if not re.match(r"^(?:S|SPEAKER_?)\d+$", line.speaker):
                names.append(line.speaker)
    return names


# ---- people, dates ----
def check_people_and_dates(data: dict, lines: Sequence[Line], doubted: Collection[str] = ()) -> list[str]:
    """Attendees the transcript never names are removed (every named voice is one), and when
    every voice of a diarized recording has a name, the attendees are those voices (a place or
    a person talked about is not one); a month nobody said makes a date ``not stated``; a year
    nobody said is removed. ``doubted``: names of known voices the transcript contradicts,
    which are not taken as voices (nor as proof that every voice is named)."""
    said = _words(" ".join(line.text for line in lines))
    voices = [v for v in speaker_names(data, lines) if v not in doubted]
    labels = anonymous_labels(lines)
    all_named = bool(labels) and set(labels) <= set(data["speakers"]) and not doubted
    notes: list[str] = []
    kept = []
    for name in voices:
        add_attendee(data["attendees"], {"name": name, "role": NOT_STATED})
    for person in data["attendees"]:
        voice = any(same_person(person["name"], v) for v in voices)
        if all_named and not voice:
            notes.append(f"removed attendee '{person['name']}': not one of the {len(voices)} voices")
        elif voice or _mentioned(person["name"], said):
            kept.append(person)
        else:
            notes.append(f"removed attendee '{person['name']}': not named in the transcript")
    data["attendees"] = kept
    for key in ("date", "location", "next_meeting"):
        value = str(data.get(key) or "")
        wrong = _unsaid_months(value, said)
        if wrong and stated(value):
            notes.append(f"{key} '{value}': {', '.join(wrong)} is not in the transcript: not stated")
            data[key] = NOT_STATED
            continue
        unsaid = [y for y in re.findall(r"\b\d{4}\b", value) if y not in said]
        if unsaid:  # a year the meeting never mentions: models like to add one
            data[key] = re.sub(r"[,\s]*\b(" + "|".join(unsaid) + r")\b", "", value).strip(" ,")
            notes.append(f"{key} '{value}': the year {', '.join(unsaid)} is not in the transcript, removed")
        if not stated(data.get(key)):
            data[key] = NOT_STATED
    return notes


# ---- dates ----
def check_dates(data: dict, lines: Sequence[Line], today: Optional[dt.date] = None) -> list[str]:
    """Dates said with a weekday, held to the calendar of the meeting's own date: a date
    misheard as the number it sounds like ("30th" for "13th") is corrected where the minutes
    name it; any other wrong weekday is reported (``dates.py``)."""
    meeting = next((d for d in said_dates(str(data.get("date", ""))) if d.weekday is not None), None)
    year = meeting_year(meeting, today or dt.date.today()) if meeting else None
    if meeting is None or year is None:
        return []
    notes: list[str] = []
    fixes: dict[tuple[int, int], int] = {}
    for line in lines:
        for (day, month), (alike, date) in wrong_weekdays(meeting, year, said_dates(line.text)).items():
            if (day, month) in fixes:
                continue
            weekday = WEEKDAYS[date.weekday or 0].capitalize()
            said = f"line {line.number} says {weekday}, the {ordinal(day)} of {MONTHS[month - 1].capitalize()}"
            calendar = (
                f"{describe(date, year)} in {year} (the year in which {describe(meeting, year)}, the meeting's date)"
            )
            if alike is None:
                notes.append(f"{said}, but {calendar}")
                continue
            fixes[(day, month)] = alike
            notes.append(f"{said}, but {calendar}: read as the {ordinal(alike)}, a {weekday}, which sounds alike")
    if not fixes:
        return notes

    def fixed(text: str) -> str:
        for date in reversed(said_dates(text)):
            if (date.day, date.month) in fixes and not fits(date, meeting, year):
                text = with_day(text, date, fixes[(date.day, date.month)])
        return text

    for item in data["action_items"]:
        item["due"] = fixed(str(item["due"]))
        item["task"] = fixed(str(item["task"]))
    for decision in data["decisions"]:
        decision["text"] = fixed(str(decision["text"]))
    data["next_meeting"] = fixed(str(data.get("next_meeting", NOT_STATED)))
    return notes


# ---- action items ----
def check_action_items(data: dict, lines: Sequence[Line]) -> list[str]:
    """The action items, held to the transcript: first the commitments said in so many words
    ("Tom, can you ...?" answered, "I'll ..."), found by code; then the model's other items,
    each anchored to a line that supports it (else dropped), its owner the one who takes it on
    there, its due date as said there. Duplicates are merged; every owner is an attendee."""
    names: dict[str, str] = data["speakers"]
    people = [a["name"] for a in data["attendees"]] + speaker_names(data, lines)
    said_words = _words(" ".join(ln.text for ln in lines))
    notes: list[str] = []
    kept: list[dict] = []
    for found in commitments(lines, names):
        line = lines[found["line"] - 1]
        owner = full_name(found["owner"], people)
        record = {"owner": owner, "task": found["task"], "due": found["due"] or NOT_STATED, "line": line.number,
                  "evidence": _evidence(line, owner, lines, names)}  # fmt: skip
        if not any(_duplicate(record, k) for k in kept):
            kept.append(record)
    for item in data["action_items"]:
        task = str(item.get("task", "")).strip()
        if not task:
            continue
        line, score = _anchor(task, item.get("line"), lines)
        if line is None or score < MIN_SUPPORT:
            notes.append(f"removed action item '{task}': no line of the transcript says it")
            continue
        said = best_sentence(task, line.text)
        following = next_line(lines, line)
        if reports_done(said):
            notes.append(f"removed action item '{task}': line {line.number} reports it done")
            continue
        if not commits(line.text) and not (following and commits(following.text)):
            notes.append(f"removed action item '{task}': nobody takes it on in line {line.number}")
            continue
        if in_room(task, said) or in_room_clause(said) or in_room_clause(_lead_in(line.text, said)):
            notes.append(f"removed action item '{task}': done in the meeting itself (line {line.number})")
            continue
        if stated(data.get("next_meeting")) and support(task, data["next_meeting"]) >= 0.5:
            notes.append(f"removed action item '{task}': it is the next meeting")
            continue
        owner = str(item.get("owner", "")).strip()
        group = re.match(r"(?:we|all|everyone|everybody)\s+(?:will\s+|should\s+|can\s+)?", task, re.I)
        if group:  # "all work on our own projects": the group's
            task, owner = task[group.end() :].strip(), GROUP
            task = task[:1].upper() + task[1:]
        if owner.lower() in GROUP_WORDS:
            owner = GROUP
        found_owner = _owner(line, task, lines, names)
        changes: list[str] = []
        if found_owner and owner != GROUP:
            found_owner = full_name(found_owner, people)
            if not same_person(found_owner, owner):
                if stated(owner):
                    changes.append(
                        f"owner of '{task}': {found_owner}, who takes it on in line {line.number}, not {owner}"
                    )
                owner = found_owner
        if owner != GROUP and (not stated(owner) or not (_mentioned(owner, said_words) or owner in people)):
            owner = NOT_STATED
        due = _due(item, line, task, owner, lines, names, changes)
        record = {"owner": owner, "task": task, "due": due, "line": line.number,
                  "evidence": _evidence(line, owner, lines, names),
                  **{k: v for k, v in item.items() if k not in ("owner", "task", "due", "line")}}  # fmt: skip
        if any(_duplicate(record, k) for k in kept):
            continue
        kept.append(record)
        notes += changes
    data["action_items"] = sorted(kept, key=lambda r: r["line"])
    for record in kept:  # whoever takes on a task was there
        if stated(record["owner"]) and record["owner"] != GROUP:
            add_attendee(data["attendees"], {"name": record["owner"], "role": NOT_STATED})
    return notes


def _lead_in(text: str, sentence: str, count: int = 2) -> str:
    """The ``count`` sentences of ``text`` said just before ``sentence``."""
    said = sentences(text)
    at = said.index(sentence) if sentence in said else 0
    return " ".join(said[max(0, at - count) : at])


def _anchor(claim: str, cited: Any, lines: Sequence[Line]) -> tuple[Line | None, float]:
    """The cited line when its neighbourhood supports ``claim`` (and says its numbers and
    dates), else the best-supporting line among those that say them."""
    when = when_tokens(claim)
    if isinstance(cited, int) and 1 <= cited <= len(lines):
        line = lines[cited - 1]
        score = support(claim, window(lines, line))
        if score >= MIN_SUPPORT and support(claim, line.text) >= 0.5 and when <= when_tokens(window(lines, line)):
            return line, score
    candidates = [ln for ln in lines if when <= when_tokens(window(lines, ln))] or list(lines)
    return best_line(claim, lines, cited if isinstance(cited, int) else None, among=candidates)


def _owner(line: Line, task: str, lines: Sequence[Line], names: dict[str, str]) -> str | None:
    """The owner by the transcript: the request or first-person sentence on the line; else the
    next voice, when it answers a request with "I'll ..."."""
    found = owner_from(line, task, lines, names)
    if found:
        return found
    following = next_line(lines, line)
    if following and following.speaker and following.speaker != line.speaker and FIRST_PERSON.search(following.text):
        if support(task, following.text) > 0:
            return names.get(following.speaker, following.speaker)
    return None


def _due(item: dict, line: Line, task: str, owner: str, lines: Sequence[Line], names: dict, notes: list) -> str:
    """The deadline as said: in the sentence that gives the task, the owner's answer, or the
    request the line answers; else the model's, when the lines around say it."""
    texts = [best_sentence(task, line.text)]
    following = next_line(lines, line)
    if following and following.speaker and following.speaker != line.speaker:
        texts.append(following.text)
    previous = lines[line.number - 2] if line.number > 1 else None
    if previous and any(same_person(n, owner) for n in requested(previous.text)):
        texts.append(previous.text)
    said = due_as_said(texts)
    given = str(item.get("due", "")).strip()
    if said:
        if stated(given) and when_tokens(given) and when_tokens(given) != when_tokens(said):
            notes.append(f"due date of '{task}': '{said}' as said in line {line.number}, not '{given}'")
        return said
    if stated(given):
        window = " ".join(texts)
        if when_tokens(given) <= when_tokens(window) and (when_tokens(given) or support(given, window) >= 0.5):
            return given
        notes.append(f"due date '{given}' of '{task}': not said in line {line.number}: not stated")
    return NOT_STATED


def _evidence(line: Line, owner: str, lines: Sequence[Line], names: dict[str, str]) -> str:
    """The line quoted, with the owner's answer when the line is a request to them."""
    quote = f"{names.get(line.speaker, line.speaker)}: {line.verbatim}" if line.speaker else line.verbatim
    following = next_line(lines, line)
    if (
        following
        and following.speaker
        and following.speaker != line.speaker
        and same_person(names.get(following.speaker, following.speaker), owner)
    ):
        quote += f" / {owner}: {following.verbatim}"
    return quote


def _duplicate(a: dict, b: dict) -> bool:
    """The same task: one owner, and the same line (or the answer to it) or most words shared."""
    if not same_person(a["owner"], b["owner"]) and a["owner"] != b["owner"]:
        return False
    wa, wb = content_words(a["task"]), content_words(b["task"])
    shared = len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0
    return abs(a["line"] - b["line"]) <= 1 and shared >= 0.3 or shared >= 0.6


# ---- decisions and summary ----
def check_decisions(data: dict, lines: Sequence[Line]) -> list[str]:
    """Each decision anchored to a line that supports it, its numbers and dates said there,
    and not a restated action item; else removed."""
    notes: list[str] = []
    kept: list[dict] = []
    for entry in data["decisions"]:
        text = str(entry.get("decision", "") if isinstance(entry, dict) else entry).strip()
        if len(content_words(text)) < 2:  # "Or": nothing decided
            continue
        line, score = _anchor(text, entry.get("line") if isinstance(entry, dict) else None, lines)
        around = window(lines, line) if line else ""
        if line is None or score < DECISION_SUPPORT:
            notes.append(f"removed decision '{text}': the transcript does not support it")
            continue
        said = best_sentence(text, line.text)
        if said.rstrip().endswith("?") or requested(said):
            notes.append(f"removed decision '{text}': line {line.number} asks a question or a favour")
            continue
        missing = when_tokens(text) - when_tokens(around)
        if missing:
            notes.append(f"removed decision '{text}': {', '.join(sorted(missing))} is not said where it was decided")
            continue
        if any(support(item["task"], text) >= 0.6 for item in data["action_items"]):
            notes.append(f"removed decision '{text}': it is an action item")
            continue
        if any(support(k["text"], text) >= 0.8 for k in kept):
            continue
        speaker = data["speakers"].get(line.speaker, line.speaker)
        kept.append(
            {"text": text, "line": line.number, "evidence": f"{speaker}: {line.verbatim}" if speaker else line.verbatim}
        )
    data["decisions"] = kept
    return notes


def check_points(data: dict, lines: Sequence[Line], headings: dict[str, str]) -> list[str]:
    """Each point of a template's lists anchored to a line that supports it, its numbers and
    dates said there; else removed. Repeats are merged."""
    notes: list[str] = []
    for name, points in data["lists"].items():
        kept: list[dict] = []
        for entry in points:
            text = str(entry.get("point", "") if isinstance(entry, dict) else entry).strip()
            if len(content_words(text)) < 2:
                continue
            line, score = _anchor(text, entry.get("line") if isinstance(entry, dict) else None, lines)
            where = headings.get(name, name).lower()
            if line is None or score < DECISION_SUPPORT:
                notes.append(f"removed {where} point '{text}': the transcript does not support it")
                continue
            missing = when_tokens(text) - when_tokens(window(lines, line))
            if missing:
                notes.append(f"removed {where} point '{text}': {', '.join(sorted(missing))} is not said there")
                continue
            if any(
                item.get("line") == line.number and support(item["task"], text) >= 0.6 for item in data["action_items"]
            ):
                notes.append(f"removed {where} point '{text}': it is an action item")
                continue
            if any(support(k["text"], text) >= 0.8 for k in kept):
                continue
            speaker = data["speakers"].get(line.speaker, line.speaker)
            evidence = f"{speaker}: {line.verbatim}" if speaker else line.verbatim
            kept.append({"text": text, "line": line.number, "evidence": evidence})
        data["lists"][name] = kept
    return notes


def check_summary(summary: str, data: dict, lines: Sequence[Line]) -> tuple[str, list[str]]:
    """The summary without the sentences the transcript and the checked lists do not support."""
    facts = [d["text"] for d in data["decisions"]] + [
        f"{a['owner']} {a['task']} {a['due']}" for a in data["action_items"]
    ]
    facts += [p["text"] for points in data.get("lists", {}).values() for p in points]
    facts += [f"{key} {data[key]}" for key in ("date", "location", "next_meeting") if stated(data.get(key))]
    tasks = [a["task"] for a in data["action_items"]]
    kept, notes = [], []
    for sentence in sentences(summary):
        why = unsupported_sentence(sentence, lines, facts, tasks)
        if why:
            notes.append(f"removed from the summary '{sentence}': {why}")
        else:
            kept.append(sentence)
    return " ".join(kept), notes


# ---- helpers ----
def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w']+", str(text).lower()))


def _mentioned(name: str, said: set[str]) -> bool:
    """A person is mentioned when any part of their name (first or last) occurs."""
    parts = [w for w in re.findall(r"[\w']+", name.lower()) if len(w) > 1]
    return any(w in said for w in parts)


def _unsaid_months(value: Any, said: set[str]) -> list[str]:
    """Month names in ``value`` (full or three-letter) that the transcript never says."""
    found = []
    for word in re.findall(r"[a-z]+", str(value or "").lower()):
        month = next(
            (m for m in MONTHS if word == m or (len(word) == 3 and m.startswith(word) and word != "may")), None
        )
        if month and month not in said and month[:3] not in said and month not in found:
            found.append(month)
    return found
