"""Transcript → structured minutes: chunk on segment boundaries, extract JSON per chunk, merge.

A transcript longer than the chat model's window is cut between segments (timestamps
kept on every line), each chunk is turned into partial minutes by schema-constrained JSON,
and the partial minutes are merged: attendees unioned, lists deduplicated, action items
deduplicated by owner and task, the partial summaries summarised once more. Nothing in the
middle is dropped: every segment lands in exactly one chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from taskdeck import ConfigError, Transcript
from taskdeck.helpers.structured import chat_json
from taskdeck.helpers.text_chunks import chunk_sentences, split_sentences

from .schema import MINUTES_SCHEMA, NOT_STATED

TEMPLATE_TOKENS = 64  # chat-template markers around the messages, with margin
MIN_CHUNK_TOKENS = 256  # less room than this per chunk cannot make minutes
LIST_FIELDS = ("discussion_points", "decisions", "next_steps")


def transcript_lines(transcript: Transcript) -> list[str]:
    """One line per segment, ``[mm:ss] text`` when the segment is timed."""
    lines = []
    for seg in transcript.segments:
        text = " ".join(seg.text.split())
        if not text:
            continue
        stamp = f"[{_stamp(seg.start)}] " if seg.end > 0 else ""
        who = f"{seg.speaker}: " if seg.speaker else ""
        lines.append(f"{stamp}{who}{text}")
    if not lines and transcript.text.strip():
        lines = [ln.strip() for ln in transcript.text.splitlines() if ln.strip()]
    return lines


def chunk_lines(lines: Sequence[str], count: Callable[[str], int], budget: int) -> list[str]:
    """Lines packed into chunks of at most ``budget`` tokens, cut only between lines; a
    single line over the budget is cut between sentences (never dropped)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        n = count(line) + 1
        if n > budget:
            if current:
                chunks.append("\n".join(current))
                current, size = [], 0
            chunks += chunk_sentences(split_sentences(line), count, budget)
            continue
        if current and size + n > budget:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        chunks.append("\n".join(current))
    return chunks


def chunk_budget(window: int, count: Callable[[str], int], system: str, prompt: str, max_new_tokens: int) -> int:
    """Tokens of transcript one request can carry."""
    fixed = count(system) + count(prompt.format(part="", language="", transcript="")) + TEMPLATE_TOKENS
    budget = window - fixed - max_new_tokens
    if budget < MIN_CHUNK_TOKENS:
        raise ConfigError(
            f"the chat model's window ({window} tokens) leaves {max(budget, 0)} tokens for the "
            f"transcript: raise backend.n_ctx (llama.cpp) or lower llm.max_new_tokens"
        )
    return budget


#: Small models decoding greedily can repeat one sentence inside a string until the answer is
#: cut off (seen with the 0.5B model); the tries after a failed one penalise repetition.
RETRY_REPETITION_PENALTY = 1.15


def extract_part(backend: Any, chunk: str, index: int, total: int, params: Any, language_line: str) -> dict:
    """Partial (or, for one chunk, whole) minutes of one chunk, validated against the schema."""
    part = params.part_prompt.format(index=index, total=total) if total > 1 else ""
    messages = [
        {"role": "system", "content": params.system_prompt},
        {"role": "user", "content": params.extract_prompt.format(part=part, language=language_line, transcript=chunk)},
    ]
    return chat_json(
        backend,
        messages,
        MINUTES_SCHEMA,
        retries=params.llm.retries,
        max_new_tokens=params.llm.max_new_tokens,
        temperature=params.llm.temperature,
        seed=params.seed,
        retry_options=None if backend.remote else {"repetition_penalty": RETRY_REPETITION_PENALTY},
    )  # APIs may reject the key


def merge_parts(parts: list[dict]) -> dict:
    """One set of minutes from the partial minutes of consecutive chunks (summary excluded):
    the first stated title, date and location; attendees unioned; near-duplicate list
    entries and action items (same owner, similar task) dropped."""
    merged: dict[str, Any] = {"title": NOT_STATED, "date": NOT_STATED, "location": NOT_STATED}
    for key in ("title", "date", "location"):
        merged[key] = next((p[key] for p in parts if stated(p.get(key))), NOT_STATED)
    people: dict[str, dict] = {}
    for p in parts:
        for a in p.get("attendees", []):
            _add_attendee(people, a)
    merged["attendees"] = list(people.values())
    for key in LIST_FIELDS:
        merged[key] = _dedupe([x for p in parts for x in p.get(key, [])])
    items: list[dict] = []
    for p in parts:
        for item in p.get("action_items", []):
            if not any(_same_person(item["owner"], o["owner"]) and _similar(item["task"], o["task"]) for o in items):
                items.append(dict(item))
    merged["action_items"] = items
    return merged


def check_against(data: dict, transcript_text: str) -> list[str]:
    """Enforce "never invented" where it can be checked, in place; return what was changed.

    - an attendee whose name the transcript never mentions is removed;
    - an action item's owner the transcript never mentions becomes ``not stated``;
    - a decision whose content words are mostly absent from the transcript is removed;
    - a year in the date or location that the transcript never says is removed;
    - a date or due date naming a month the transcript never says becomes ``not stated``
      (the model guessed it).
    """
    said = _words(transcript_text)
    notes: list[str] = []
    kept = []
    for a in data.get("attendees", []):
        if _mentioned(a["name"], said):
            kept.append(a)
        else:
            notes.append(f"removed attendee '{a['name']}': not named in the transcript")
    data["attendees"] = kept
    for item in data.get("action_items", []):
        if stated(item["owner"]) and not _mentioned(item["owner"], said):
            notes.append(f"owner '{item['owner']}' of '{item['task']}' is not named in the transcript: not stated")
            item["owner"] = NOT_STATED
    decisions = []
    for d in data.get("decisions", []):
        content = [w for w in _words(d) if len(w) > 3]
        support = sum(w in said for w in content) / len(content) if content else 1.0
        if support >= 0.5:
            decisions.append(d)
        else:
            notes.append(f"removed decision '{d}': the transcript does not support it")
    data["decisions"] = decisions
    for item in data.get("action_items", []):
        wrong = _unsaid_months(item.get("due", ""), said)
        if wrong and stated(item.get("due")):
            notes.append(
                f"due date '{item['due']}' of '{item['task']}': {', '.join(wrong)} is not in the transcript: not stated"
            )
            item["due"] = NOT_STATED
    wrong = _unsaid_months(data.get("date", ""), said)
    if wrong and stated(data.get("date")):
        notes.append(f"date '{data['date']}': {', '.join(wrong)} is not in the transcript: not stated")
        data["date"] = NOT_STATED
    for key in ("date", "location"):
        value = str(data.get(key) or "")
        unsaid = [w for w in re.findall(r"\b\d{4}\b", value) if w not in said]
        if unsaid:  # a year the meeting never mentions: models like to add one
            fixed = re.sub(r"[,\s]*\b(" + "|".join(unsaid) + r")\b", "", value).strip(" ,")
            notes.append(f"{key} '{value}': the year {', '.join(unsaid)} is not in the transcript, removed")
            data[key] = fixed
        if not stated(data.get(key)):
            data[key] = NOT_STATED
    return notes


def stated(value: Any) -> bool:
    text = str(value or "").strip().lower().strip(".")
    return bool(text) and text not in (NOT_STATED, "none", "n/a", "unknown", "not specified", "not mentioned")


# ---- helpers ----
def _stamp(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


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


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w']+", str(text).lower()))


def _mentioned(name: str, said: set[str]) -> bool:
    """A person is mentioned when any part of their name (first or last) occurs."""
    parts = [w for w in re.findall(r"[\w']+", name.lower()) if len(w) > 1]
    return any(w in said for w in parts)


def _same_person(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    return bool(wa & wb) or a.strip().lower() == b.strip().lower()


def _add_attendee(people: dict[str, dict], person: dict) -> None:
    for known in people.values():
        if _same_person(person["name"], known["name"]):
            if len(person["name"]) > len(known["name"]):
                known["name"] = person["name"]
            if not stated(known.get("role")) and stated(person.get("role")):
                known["role"] = person["role"]
            return
    people[person["name"].lower()] = dict(person)


def _similar(a: str, b: str, threshold: float = 0.6) -> bool:
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= threshold


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item.strip() and not any(_similar(item, o, 0.8) for o in out):
            out.append(item.strip())
    return out
