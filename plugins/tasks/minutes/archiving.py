"""Adds a run's minutes to the archive ``task=ask`` answers from (:mod:`taskdeck.helpers.archive`).

The transcript goes in as turns, as the passes read it: a speaker's consecutive segments joined
up to a paragraph, cleaned of markers and fillers, turns that only acknowledge left out, each
with the second it began when the minutes came from audio. Decisions and action items go in with the turn their
evidence quotes, so an answer built on them can quote the person who said it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from taskdeck import Transcript
from taskdeck.helpers.archive import Archive, Turn

from .evidence import LINE_WORDS
from .real_talk import backchannel, clean
from .schema import NOT_STATED


def index_minutes(minutes: dict[str, Any], transcript: Transcript, path: Path, run: str) -> int:
    """Store ``minutes`` (as ``minutes.json`` holds them) and ``transcript`` in the archive at
    ``path`` (made when missing); the meeting's id there."""
    turns = transcript_turns(transcript, minutes.get("speakers") or {}, timed=transcript.duration > 0)

    def said(value: Any) -> str:
        return "" if value in (None, "", NOT_STATED) else str(value)

    with Archive(path, create=True) as archive:
        return archive.add(
            run=run,
            source=str(minutes.get("source") or ""),
            title=str(minutes.get("title") or "untitled meeting"),
            date=said(minutes.get("date")),
            language=str(minutes.get("language") or ""),
            duration=float(minutes.get("duration") or 0.0),
            turns=turns,
            decisions=[(d["text"], turn_of(d.get("evidence", ""), turns)) for d in minutes.get("decisions", [])],
            actions=[
                (a["owner"], a["task"], said(a.get("due")), turn_of(a.get("evidence", ""), turns))
                for a in minutes.get("action_items", [])
            ],
        )


def index_run(run_dir: Path, path: Path) -> int:
    """Store a ``task=minutes`` run made before (or with ``index=false``) from its directory: its
    ``minutes.json`` and its ``transcript.json``, else the transcript file the minutes name."""
    from taskdeck import InputError
    from taskdeck.helpers.transcripts import read_transcript

    made = run_dir / "minutes.json"
    if not made.is_file():
        raise InputError(f"add={run_dir}: no minutes.json there; give a task=minutes run directory")
    minutes = json.loads(made.read_text(encoding="utf-8"))
    kept = run_dir / "transcript.json"
    source = kept if kept.is_file() else Path(str(minutes.get("source") or ""))
    if not source.is_file():
        raise InputError(f"add={run_dir}: its transcript is gone (no transcript.json, no {source})")
    return index_minutes(minutes, read_transcript(str(source)), path, str(run_dir.resolve()))


def transcript_turns(transcript: Transcript, names: dict[str, str], timed: bool) -> list[Turn]:
    """The transcript's turns, speakers under the names the minutes gave their labels: a
    speaker's consecutive segments joined up to :data:`LINE_WORDS` words, a longer segment cut
    between sentences (so a passage, and a quote, stays about a paragraph long)."""
    from taskdeck.helpers.text_chunks import chunk_sentences, split_sentences

    def words(text: str) -> int:
        return len(text.split())

    turns: list[Turn] = []
    shown = {f"{name} ({label})": name for label, name in names.items()}  # as transcript.json writes them
    for seg in transcript.segments:
        text = clean(" ".join(seg.text.split()))
        if not text or backchannel(text):
            continue
        speaker = shown.get(seg.speaker) or names.get(seg.speaker, seg.speaker)
        start = round(seg.start, 2) if timed else None
        pieces = [text] if words(text) <= LINE_WORDS else chunk_sentences(split_sentences(text), words, LINE_WORDS)
        for piece in pieces:
            last = turns[-1] if turns else None
            if last and last.speaker == speaker and words(last.text) + words(piece) <= LINE_WORDS:
                last.text += " " + piece
            else:
                turns.append(Turn(len(turns) + 1, speaker, piece, start))
    if not turns and transcript.text.strip():
        turns = [Turn(i, "", clean(t)) for i, t in enumerate(transcript.text.splitlines(), 1) if clean(t)]
    return turns


def turn_of(evidence: str, turns: Sequence[Turn]) -> Optional[int]:
    """The turn an item's evidence quotes ("Speaker: words / Speaker: answer": its first part),
    by the most words shared in order of appearance; None when no turn shares half of them."""
    first = evidence.split(" / ")[0]
    quoted = _words(first.split(": ", 1)[1] if ": " in first else first)
    if not quoted:
        return None
    best, best_score = None, 0.0
    for turn in turns:
        said = set(_words(turn.text))
        score = sum(w in said for w in quoted) / len(quoted)
        if score > best_score:
            best, best_score = turn.number, score
    return best if best_score >= 0.5 else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", clean(text).lower())
