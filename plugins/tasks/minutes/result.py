"""The ``Minutes`` result: structured minutes, rendered as Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from taskdeck import Result

from .schema import NOT_STATED
from .templates import BUILT_IN_SECTIONS, FIELD_TITLES


@dataclass
class Attendee:
    name: str
    role: str = NOT_STATED


@dataclass
class ActionItem:
    owner: str
    task: str
    due: str = NOT_STATED
    #: The transcript line the item comes from (and the owner's answer to a request).
    evidence: str = ""
    #: The template's own fields (e.g. priority), as said.
    more: dict[str, str] = field(default_factory=dict)


@dataclass
class Decision:
    text: str
    evidence: str = ""


@dataclass
class Point:
    """A point of one of a template's lists (a blocker, a risk), with its transcript line."""

    text: str
    evidence: str = ""


#: The default template's sections and headings, and its action-item columns.
DEFAULT_SECTIONS = list(BUILT_IN_SECTIONS.items())
DEFAULT_COLUMNS = list(FIELD_TITLES.items())


@dataclass
class Minutes(Result):
    """Meeting minutes; the JSON holds exactly what the Markdown shows, plus evidence and provenance."""

    kind: ClassVar[str] = "minutes"
    title: str
    date: str = NOT_STATED
    location: str = NOT_STATED
    attendees: list[Attendee] = field(default_factory=list)
    executive_summary: str = ""
    discussion_points: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    next_meeting: str = NOT_STATED
    #: Voice labels of the diarized transcript and the names found for them.
    speakers: dict[str, str] = field(default_factory=dict)
    #: What the checks removed or changed, e.g. an owner the transcript never names.
    checks: list[str] = field(default_factory=list)
    source: str = ""
    duration: float = 0.0
    language: str = ""
    chunks: int = 1
    models: dict[str, str] = field(default_factory=dict)
    #: The template (``template=``) that laid the minutes out: its sections, in order, with their
    #: headings; the action-item table's columns; the points of its own lists.
    template: str = "default"
    sections: list[tuple[str, str]] = field(default_factory=lambda: list(DEFAULT_SECTIONS))
    columns: list[tuple[str, str]] = field(default_factory=lambda: list(DEFAULT_COLUMNS))
    points: dict[str, list[Point]] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return [{key: _field(a, key) for key, _ in self.columns} for a in self.action_items]

    def summary(self) -> str:  # the terminal shows the whole minutes
        return self.to_markdown()

    def to_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        out.append(f"**Date:** {self.date}  ")
        out.append(f"**Location:** {self.location}  ")
        people = (
            ", ".join(a.name if a.role in ("", NOT_STATED) else f"{a.name} ({a.role})" for a in self.attendees)
            or NOT_STATED
        )
        out += [f"**Attendees:** {people}", ""]
        for key, heading in self.sections:
            out += self._section(key, heading)
        if self.checks:
            out += ["<details><summary>Checks against the transcript</summary>", ""]
            out += [f"- {c}" for c in self.checks]
            out += ["", "</details>", ""]
        made = f"_Minutes from {self.source or 'a transcript'}"
        if self.duration:
            made += f" ({_clock(self.duration)})"
        if self.models:
            made += ", by " + " and ".join(f"{m} ({role})" for role, m in self.models.items())
        out.append(made + '. Facts the transcript does not state are marked "not stated"._')
        return "\n".join(out) + "\n"

    def _section(self, key: str, heading: str) -> list[str]:
        if key == "summary":
            return [f"## {heading}", "", self.executive_summary.strip() or NOT_STATED, ""]
        if key == "discussion_points":
            return _bullets(heading, self.discussion_points)
        if key == "decisions":
            return _bullets(heading, [d.text for d in self.decisions])
        if key == "next_meeting":
            return [f"## {heading}", "", self.next_meeting or NOT_STATED, ""]
        if key != "action_items":
            return _bullets(heading, [p.text for p in self.points.get(key, [])])
        out = [f"## {heading}", ""]
        if self.action_items:
            out += ["| " + " | ".join(title for _, title in self.columns) + " |", "|" + "---|" * len(self.columns)]
            out += ["| " + " | ".join(_cell(_field(a, k)) for k, _ in self.columns) + " |" for a in self.action_items]
        else:
            out.append("_None recorded._")
        return [*out, ""]


def _field(item: ActionItem, key: str) -> str:
    return getattr(item, key) if key in FIELD_TITLES else item.more.get(key, NOT_STATED)


def _bullets(title: str, items: list[str]) -> list[str]:
    body = [f"- {i}" for i in items] if items else ["_None recorded._"]
    return [f"## {title}", "", *body, ""]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
