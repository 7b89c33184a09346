"""The structured minutes: the JSON schema the model fills.

``maxItems`` on every list stops small models from looping inside a list until the token
limit (measured with the embedded 0.5B model). What the transcript does not state is
written as ``not stated``; the schema admits no extra keys.
"""

from __future__ import annotations

NOT_STATED = "not stated"

_STR = {"type": "string"}


def _list(item: dict, most: int) -> dict:
    return {"type": "array", "items": item, "maxItems": most}


def _object(**props: dict) -> dict:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


MINUTES_SCHEMA: dict = _object(
    title=_STR,
    date=_STR,
    location=_STR,
    attendees=_list(_object(name=_STR, role=_STR), 20),
    summary=_STR,
    discussion_points=_list(_STR, 8),
    decisions=_list(_STR, 10),
    action_items=_list(_object(owner=_STR, task=_STR, due=_STR), 15),
    next_steps=_list(_STR, 6),
)
