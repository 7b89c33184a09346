"""The JSON schemas of the minutes' passes (facts, action items, decisions, a template's points, translations).

``maxItems`` on every list stops small models from looping inside a list until the token
limit (measured with the embedded 0.5B model). Keys are few and short: each is decoded as
tokens of every item. ``line`` is the evidence: the number of the transcript line an item
comes from, checked by code. What the transcript does not state is written as ``not stated``;
no schema admits extra keys.
"""

from __future__ import annotations

from collections.abc import Sequence

NOT_STATED = "not stated"

_STR = {"type": "string"}
_LINE = {"type": "integer", "minimum": 1}


def _list(item: dict, most: int) -> dict:
    return {"type": "array", "items": item, "maxItems": most}


def _object(**props: dict) -> dict:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def facts_schema(labels: Sequence[str] = ()) -> dict:
    """Title, date, place, next meeting, attendees; and a name per voice label when the
    transcript has anonymous labels (``S1``, ``S2``, ...)."""
    fields = dict(
        title=_STR,
        date=_STR,
        location=_STR,
        next_meeting=_STR,
        attendees=_list(_object(name=_STR, role=_STR), 20),
    )
    if labels:
        fields["speakers"] = _list(_object(label={"type": "string", "enum": list(labels)}, name=_STR), len(labels))
    return _object(**fields)


def actions_schema(extra: Sequence[str] = ()) -> dict:
    """Action items: owner, task, due, a template's own fields (as said), and the line."""
    more = {name: _STR for name in extra}
    fields: dict[str, dict] = {"owner": _STR, "task": _STR, "due": _STR, **more, "line": _LINE}
    return _object(action_items=_list(_object(**fields), 12))


ACTIONS_SCHEMA: dict = actions_schema()


def points_schema(most: int) -> dict:
    """A template's list: short points, each with its line."""
    return _object(points=_list(_object(point=_STR, line=_LINE), most))


DECISIONS_SCHEMA: dict = _object(
    decisions=_list(_object(decision=_STR, line=_LINE), 8),
    discussion_points=_list(_STR, 6),
)


def translation_schema(count: int) -> dict:
    """A translation request's answer: as many translations as texts."""
    return _object(texts={"type": "array", "items": _STR, "minItems": count, "maxItems": count})
