"""Meetings outside English, and minutes in another language (``language=``,
``summary_language=``).

The checks read English (who takes a task on, what is requested, what is done in the room), so
the minutes are made in English and translated at the ends: speech in another language is
transcribed straight into English by a multilingual Whisper (its ``translate`` task), a
transcript file's lines by the chat model; the checked minutes are then translated into the
minutes' language by the chat model. Evidence quotes the English lines the checks read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Texts per translation request: short enough for a small model to keep the count.
GROUP = 10


def minutes_texts(data: dict, summary: dict, extra_fields: list[str]) -> list[tuple[Any, Any]]:
    """(container, key) of every text of the checked minutes a reader reads; names, evidence and
    "not stated" are left as they are. ``summary`` holds the summary under ``"text"``."""
    from .checks import stated

    found: list[tuple[Any, Any]] = []

    def add(obj: Any, key: Any) -> None:
        value = obj[key] if isinstance(obj, list) else obj.get(key)
        if isinstance(value, str) and value.strip() and stated(value):
            found.append((obj, key))

    for key in ("title", "date", "location", "next_meeting"):
        add(data, key)
    add(summary, "text")
    for person in data["attendees"]:
        add(person, "role")
    for i in range(len(data["discussion_points"])):
        add(data["discussion_points"], i)
    for decision in data["decisions"]:
        add(decision, "text")
    for item in data["action_items"]:
        for key in ("task", "due", *extra_fields):
            add(item, key)
    for points in data["lists"].values():
        for point in points:
            add(point, "text")
    return found


def translate_in_place(places: list[tuple[Any, Any]], translate: Callable[[list[str]], list[str]]) -> None:
    """Each place's text replaced by its translation, ``GROUP`` texts per request."""
    for start in range(0, len(places), GROUP):
        group = places[start : start + GROUP]
        for (obj, key), text in zip(group, translate([str(obj[key]) for obj, key in group])):
            if text.strip():
                obj[key] = text.strip()
