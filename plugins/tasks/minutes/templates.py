"""Templates of the minutes (``template=``): which sections the minutes show, in what order and
under which headings, the fields of an action item, and lists of points of the template's own
(a stand-up's blockers, a design review's risks). The built-ins are YAML files beside this
module; ``template=`` names one of them or a YAML file of the user's (a copy of one, edited)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskdeck import ConfigError

FOLDER = Path(__file__).parent / "templates"
BUILT_IN_SECTIONS = {
    "summary": "Summary",
    "discussion_points": "Key discussion points",
    "decisions": "Decisions",
    "action_items": "Action items",
    "next_meeting": "Next meeting",
}
FIELD_TITLES = {"owner": "Owner", "task": "Action", "due": "Due"}
_KEYS = {"description", "sections", "headings", "action_items", "lists", "summary_prompt"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class PointList:
    """A section of short points, each held to the transcript line it cites."""

    heading: str
    question: str
    most: int = 6


@dataclass
class Template:
    name: str
    description: str = ""
    sections: list[str] = field(default_factory=lambda: list(BUILT_IN_SECTIONS))
    headings: dict[str, str] = field(default_factory=dict)
    action_items: list[str] = field(default_factory=lambda: ["owner", "task", "due"])
    lists: dict[str, PointList] = field(default_factory=dict)
    summary_prompt: str = ""

    def heading(self, section: str) -> str:
        if section in self.headings:
            return self.headings[section]
        if section in self.lists:
            return self.lists[section].heading
        return BUILT_IN_SECTIONS.get(section, section.replace("_", " ").capitalize())

    def shows(self, *sections: str) -> bool:
        return any(s in self.sections for s in sections)

    @property
    def extra_fields(self) -> list[str]:
        """Action-item fields beyond owner, task and due (asked of the model as said)."""
        return [f for f in self.action_items if f not in FIELD_TITLES]

    def columns(self) -> list[tuple[str, str]]:
        """The action-item table's (field, title) columns."""
        return [(f, FIELD_TITLES.get(f, f.replace("_", " ").capitalize())) for f in self.action_items]


def names() -> list[str]:
    """The built-in templates, ``default`` first."""
    found = sorted(p.stem for p in FOLDER.glob("*.yaml"))
    return ["default", *(n for n in found if n != "default")]


def describe() -> dict[str, str]:
    """Each built-in template's description (``task=plugins``)."""
    return {n: load(n).description for n in names()}


def load(ref: str) -> Template:
    """The template ``ref`` names: a built-in's name or a YAML file's path."""
    path = Path(ref).expanduser()
    if ref.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise ConfigError(f"template file '{ref}' does not exist: give a YAML file or one of {', '.join(names())}")
    else:
        path = FOLDER / f"{ref}.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown template '{ref}'; choices: {', '.join(names())} (or a YAML file's path)")
    return parse(_read(path), path.stem, str(path))


def _read(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"template '{path}' is not valid YAML{where}: fix the file") from None


def parse(data: Any, name: str, where: str) -> Template:
    """A template from its YAML mapping; a wrong key or value is one line naming it."""

    def bad(what: str) -> ConfigError:
        return ConfigError(f"template '{where}': {what}")

    if not isinstance(data, dict):
        raise bad("expected a mapping with sections: [...]")
    unknown = set(data) - _KEYS
    if unknown:
        raise bad(f"unknown key '{sorted(unknown)[0]}'; keys: {', '.join(sorted(_KEYS))}")
    lists: dict[str, PointList] = {}
    for key, spec in (data.get("lists") or {}).items():
        if not _NAME.match(str(key)) or key in BUILT_IN_SECTIONS:
            raise bad(f"list name '{key}' must be lower_case and not a built-in section")
        if not isinstance(spec, dict) or not str(spec.get("question") or "").strip():
            raise bad(f"list '{key}' needs a question: lists: {{{key}: {{heading: ..., question: ...}}}}")
        most = spec.get("most", 6)
        if not isinstance(most, int) or not 1 <= most <= 20:
            raise bad(f"list '{key}': most must be a whole number from 1 to 20, not {most!r}")
        heading = str(spec.get("heading") or key.replace("_", " ").capitalize())
        lists[key] = PointList(heading, str(spec["question"]).strip(), most)
    sections = data.get("sections") or list(BUILT_IN_SECTIONS)
    if not isinstance(sections, list):
        raise bad("sections must be a list, e.g. sections: [summary, action_items]")
    for s in sections:
        if s not in BUILT_IN_SECTIONS and s not in lists:
            choices = ", ".join([*BUILT_IN_SECTIONS, *lists])
            raise bad(f"unknown section '{s}'; choices: {choices} (or a name under lists:)")
    fields = data.get("action_items") or ["owner", "task", "due"]
    if not isinstance(fields, list) or not {"owner", "task"} <= set(fields):
        raise bad("action_items must list the fields of an item, owner and task among them")
    for f in fields:
        if not _NAME.match(str(f)) or f in ("line", "evidence"):
            raise bad(f"action-item field '{f}' must be lower_case and not 'line' or 'evidence'")
    headings = data.get("headings") or {}
    if not isinstance(headings, dict):
        raise bad("headings must map a section to its heading, e.g. headings: {action_items: Next steps}")
    prompt = str(data.get("summary_prompt") or "")
    for slot in re.findall(r"{(\w*)}", prompt):
        if slot not in ("roster", "facts", "language"):
            raise bad(f"summary_prompt has '{{{slot}}}'; it may hold {{roster}}, {{facts}} and {{language}}")
    return Template(
        name=name,
        description=str(data.get("description") or ""),
        sections=[str(s) for s in sections],
        headings={str(k): str(v) for k, v in headings.items()},
        action_items=[str(f) for f in fields],
        lists=lists,
        summary_prompt=prompt,
    )
