"""An answer from the passages found: the chat model reads them as numbered excerpts and
answers with the numbers it used, or says nothing there answers the question.

What is quoted is never the model's text. The quotes are the excerpts that hold the words the
answer adds to the question (:func:`evidence`; a small model often cites the excerpt beside the
right one), shown as stored (a minutes item as the turn its evidence quotes), with the meeting,
its date, the speaker and the time. The answer counts as not found when the model says so, when
it cites nothing it was shown, or when the model itself, asked yes or no, does not find it in
those quotes (the ``qa`` task's check: the probability of "yes" against "no", one forward pass).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from taskdeck.helpers.archive import STOP_WORDS, Archive, Meeting, Turn
from taskdeck.helpers.structured import StructuredOutputError, chat_json

from .search import Found

NOT_FOUND = "NOT FOUND"
MAX_QUOTES = 3
#: Greedy decoding that loops is tried again with this repetition penalty (as the minutes' passes are).
RETRY_REPETITION_PENALTY = 1.15
#: An answer whose cited excerpts the model judges less likely than this to state it is not given.
MIN_SUPPORT = 0.5
#: Words of excerpts the model reads at most (about 1,300 tokens).
EXCERPT_WORDS = 900

SYSTEM = (
    "You answer questions about past meetings. Use only the numbered excerpts you are given, never what "
    "you know. Quote nothing; cite the numbers of the excerpts that state the answer."
)
PROMPT = """Excerpts from the archive of meetings:

{excerpts}

Question: {question}

Reply in JSON. "answer": one or two sentences that answer the question from the excerpts, with the \
names, numbers and dates as the excerpts give them; "sources": the numbers of the one or two excerpts \
that state it. If no excerpt answers the question, "answer" is "NOT FOUND" and "sources" is []."""

CHECK = (
    "Excerpts:\n{excerpts}\n\nQuestion: {question}\n\n"
    'Do these excerpts state that "{answer}" is the answer to the question? Answer yes or no.'
)
CHECK_SYSTEM = "You judge whether excerpts of a meeting answer a question."

SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "integer"}, "maxItems": 4},
    },
    "required": ["answer", "sources"],
    "additionalProperties": False,
}


@dataclass
class Excerpt:
    """What the model reads as ``[number]``: a turn, or an item of the minutes (``speaker`` is
    "minutes") with the turn its evidence quotes."""

    number: int
    meeting: Meeting
    speaker: str
    text: str
    turn: Optional[Turn] = None


@dataclass
class Reply:
    answer: str
    cited: list[Excerpt] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    support: Optional[float] = None  # P(yes): the cited excerpts state the answer


def excerpts(archive: Archive, found: Sequence[Found], budget: int = EXCERPT_WORDS) -> list[Excerpt]:
    """The found passages as excerpts, each turn once, grouped by meeting and in the order
    said, within ``budget`` words (the best passages first)."""
    passages = archive.passages([f.passage for f in found])
    meetings = archive.meetings()
    chosen: dict[tuple[int, int, str], Excerpt] = {}  # (meeting, turn, kind) → excerpt
    words = 0
    for f in found:
        p = passages[f.passage]
        meeting = meetings[p.meeting]
        if p.kind == "transcript":
            assert p.first is not None and p.last is not None  # a window always spans turns
            new = [(t.number, "said", Excerpt(0, meeting, t.speaker, t.text, t))
                   for t in archive.turns(p.meeting, p.first, p.last)]  # fmt: skip
        else:
            turn = archive.turns(p.meeting, p.first, p.first)[0] if p.first is not None else None
            new = [(p.first or 0, p.kind, Excerpt(0, meeting, "minutes", p.text, turn))]
            if turn is not None:
                new.append((turn.number, "said", Excerpt(0, meeting, turn.speaker, turn.text, turn)))
        new = [n for n in new if (p.meeting, n[0], n[1]) not in chosen]
        size = sum(len(e.text.split()) for _, _, e in new)
        if chosen and words + size > budget:
            break
        words += size
        for number, kind, excerpt in new:
            chosen[(p.meeting, number, kind)] = excerpt
    order = {m: i for i, m in enumerate(dict.fromkeys(k[0] for k in chosen))}
    keys = sorted(chosen, key=lambda k: (order[k[0]], k[1], k[2] == "said"))
    out = [chosen[k] for k in keys]
    for i, excerpt in enumerate(out, 1):
        excerpt.number = i
    return out


def render(shown: Sequence[Excerpt]) -> str:
    """The excerpts as the model reads them, under a heading per meeting."""
    out: list[str] = []
    meeting: Optional[int] = None
    for e in shown:
        if e.meeting.id != meeting:
            meeting = e.meeting.id
            out += [*([""] if out else []), f'Meeting "{e.meeting.title}" ({e.meeting.when}):']
        at = f" at {clock(e.turn.start)}" if e.speaker != "minutes" and e.turn and e.turn.start is not None else ""
        out.append(f"[{e.number}] {e.speaker}{at}: {e.text}")
    return "\n".join(out).strip()


def answer(backend: Any, question: str, shown: Sequence[Excerpt], *, seed: Optional[int] = 0) -> Reply:
    """The model's answer from ``shown``; not found when it says so or cites nothing it was shown."""
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": PROMPT.format(excerpts=render(shown), question=question.strip())},
    ]
    retry = None if getattr(backend, "remote", False) else {"repetition_penalty": RETRY_REPETITION_PENALTY}
    try:
        data = chat_json(backend, messages, SCHEMA, max_new_tokens=200, temperature=0.0, seed=seed, retry_options=retry)
    except StructuredOutputError as exc:  # a loop that never closed its JSON, three times
        return Reply(NOT_FOUND, [], {"error": str(exc), "raw": exc.raw[:500]})
    by_number = {e.number: e for e in shown}
    cited = [by_number[n] for n in dict.fromkeys(data.get("sources", [])) if n in by_number]
    text = " ".join(str(data.get("answer", "")).split())
    text = re.sub(r"\s*\[\d+(?:,\s*\d+)*\]", "", text)  # the numbers are shown as quotes instead
    if not cited or not text or NOT_FOUND.lower() in text.lower():
        return Reply(NOT_FOUND, [], data)
    cited = evidence(text, question, shown, cited)
    support = supported(backend, question, text, cited)
    if support is not None and support < MIN_SUPPORT:
        return Reply(NOT_FOUND, [], data, support)
    return Reply(text, cited, data, support)


def evidence(text: str, question: str, shown: Sequence[Excerpt], cited: Sequence[Excerpt]) -> list[Excerpt]:
    """The excerpts that state the answer: those holding most of the words the answer adds to
    the question, with the ones the model cited that hold at least half as many; in the order
    shown."""
    new = _content(text) - _content(question)
    if not new:
        return list(cited)

    def held(e: Excerpt) -> float:
        said = _content(e.text + (" " + e.turn.text if e.speaker == "minutes" and e.turn else ""))
        return len(new & said) / len(new)

    best = max(held(e) for e in shown)
    if best == 0:
        return list(cited)
    chosen = {e.number for e in shown if held(e) == best} | {e.number for e in cited if held(e) >= best / 2}
    return [e for e in shown if e.number in chosen][:MAX_QUOTES]


def _content(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w for w in words if (len(w) > 2 or w.isdigit()) and w not in STOP_WORDS}


def supported(backend: Any, question: str, text: str, cited: Sequence[Excerpt]) -> Optional[float]:
    """P(yes) that the quotes (a minutes item with the turn it quotes) state ``text`` as the
    answer to ``question``; None when the backend cannot score labels (the check is skipped)."""
    from taskdeck import SCORE_LABELS
    from taskdeck.helpers.label_scoring import yes_probability

    if SCORE_LABELS not in backend.capabilities():
        return None
    lines = []
    for e in cited:
        lines.append(f"{e.speaker}: {e.text}")
        if e.speaker == "minutes" and e.turn is not None:
            lines.append(f"{e.turn.speaker}: {e.turn.text}")
    prompt = CHECK.format(excerpts="\n".join(dict.fromkeys(lines)), question=question.strip(), answer=text)
    return yes_probability(backend, CHECK_SYSTEM, prompt)


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
