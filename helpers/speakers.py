"""Speaker turns (from a ``diarize`` backend) put on a transcript's words and segments.

Each word takes the speaker whose turn overlaps it most (or the nearest turn within
``NEAREST_S`` when it falls in a gap), and a segment is split wherever its words change
speaker: Whisper's segments often hold a reply and its question ("Agreed." "Agreed."). A
segment without word times takes the speaker it overlaps most.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, Optional

from taskdeck import DIARIZE, Segment, Transcript, Turn, param

NEAREST_S = 1.0
DEFAULT_DIARIZER = "diarizer-campplus"


def diarize_transcript(
    ctx: Any,
    transcript: Transcript,
    audio: Any,
    *,
    model: str = DEFAULT_DIARIZER,
    backend: Any = None,
    speakers: Optional[int] = None,
    threshold: Optional[float] = None,
) -> list[Turn]:
    """Diarize ``audio`` (a path or a Waveform) with ``model`` and label ``transcript``'s
    segments in place; returns the turns. ``threshold`` replaces the diarizer's own clustering
    threshold (higher: fewer speakers). The progress bar runs in seconds of audio."""
    diarizer = diarizer_model(ctx, model, backend=backend, threshold=threshold)
    bar = ctx.progress(None, total=round(transcript.duration, 1) or None, desc="diarization", unit="s", leave=True)

    def advance(seconds: float) -> None:
        if seconds > bar.n:
            bar.update(round(seconds - bar.n, 1))

    with ctx.watch.time("diarize"):
        turns = diarizer.diarize(audio, speakers=speakers, progress=advance)
    bar.close()
    transcript.segments = label_segments(transcript.segments, turns)
    return turns


def diarizer_model(ctx: Any, model: str, *, backend: Any = None, threshold: Optional[float] = None) -> Any:
    """The loaded diarizer ``model`` (the run's one, when already loaded): ``threshold`` set on
    its pack's backend when given."""
    if threshold is not None and backend is None:
        backend = {"name": next(iter(pack_diarizers(ctx, model)), "auto"), "threshold": threshold}
    return ctx.model(model, needs=[DIARIZE], backend=backend).backend


def pack_diarizers(ctx: Any, model: str) -> dict[str, Any]:
    """name → class of the backends that diarize with the pack ``model`` (empty when it is no pack)."""
    pack = ctx.catalog.packs.get(model)
    if pack is None:
        return {}
    return {n: b for n, b in ctx.catalog.backends.items() if pack.format in b.formats and DIARIZE in b.all_capabilities}


def speaker_threshold_param() -> Any:
    """The ``speaker_threshold`` option of the tasks that diarize."""
    return param(
        None,
        "how different two voices must be to count as two speakers (higher: fewer); the diarizer's own when unset",
        gt=0,
        lt=2,
    )


def label_segments(segments: Sequence[Segment], turns: Sequence[Turn]) -> list[Segment]:
    """The segments with speakers, split where the speaker changes between sentences or at a
    clause break; each piece goes to the speaker of most of its words' time."""
    turns = sorted(turns, key=lambda t: t.start)
    starts = [t.start for t in turns]
    out: list[Segment] = []
    for seg in segments:
        if not turns:
            out.append(seg)
            continue
        if not seg.words:
            seg.speaker = speaker_at(turns, starts, seg.start, seg.end) or seg.speaker
            out.append(seg)
            continue
        groups: list[tuple[str, list]] = []
        for sentence in word_sentences(seg.words):
            heard: list[str] = []  # each word's speaker, a word no turn covers taking the one before
            for word in sentence:
                before = heard[-1] if heard else (groups[-1][0] if groups else "")
                heard.append(speaker_at(turns, starts, word.start, word.end) or before)
            for a, b in _clauses(sentence, heard):
                who = _majority(sentence[a:b], heard[a:b])
                if groups and groups[-1][0] == who:
                    groups[-1][1].extend(sentence[a:b])
                else:
                    groups.append((who, list(sentence[a:b])))
        if len(groups) == 1:
            seg.speaker = groups[0][0]
            out.append(seg)
            continue
        for who, words in groups:
            text = "".join(w.word for w in words).strip()
            out.append(Segment(words[0].start, words[-1].end, text, words=list(words), speaker=who))
    return out


def word_sentences(words: Sequence[Any]) -> list[list[Any]]:
    """Words cut after each word that ends a sentence (. ? !)."""
    out: list[list[Any]] = [[]]
    for word in words:
        out[-1].append(word)
        if word.word.strip().endswith((".", "?", "!")):
            out.append([])
    return [s for s in out if s]


#: Words a clause needs to be a turn of its own inside a sentence.
MIN_CLAUSE_WORDS = 3


def _clauses(sentence: Sequence[Any], heard: Sequence[str]) -> list[tuple[int, int]]:
    """``(start, end)`` word ranges of a sentence, cut where the speaker ``heard`` changes at a
    clause break (a word ending in , ; :, a word either side) between clauses of
    :data:`MIN_CLAUSE_WORDS` words or more: "This is Diane in New Jersey, | and I'm Sheila". A
    change anywhere else is a diarizer's boundary heard late or early ("Daniel, | what would it
    cost?"), and the sentence stays whole."""
    whole = [(0, len(sentence))]
    cuts = []
    for i in range(1, len(sentence)):
        if heard[i] == heard[i - 1]:
            continue
        near = [j for j in (i, i - 1, i + 1) if 0 < j < len(sentence) and sentence[j - 1].word.strip()[-1:] in ",;:"]
        if not near:
            return whole
        cuts.append(near[0])
    bounds = [0, *sorted(set(cuts)), len(sentence)]
    if any(b - a < MIN_CLAUSE_WORDS for a, b in zip(bounds, bounds[1:])):
        return whole  # "Daniel, | what would it cost?": a name, not a turn
    return list(zip(bounds, bounds[1:]))


def _majority(words: Sequence[Any], heard: Sequence[str]) -> str:
    """The speaker of most of the words' time: a diarizer's change of speaker a word or two
    late ("I'll send the revised | budget by Monday") does not cut a sentence in two."""
    said: dict[str, float] = {}
    for word, who in zip(words, heard):
        said[who] = said.get(who, 0.0) + max(word.end - word.start, 0.01)
    return max(said, key=lambda who: said[who])


def speaker_at(turns: Sequence[Turn], starts: list[float], start: float, end: float) -> str:
    """The speaker whose turns overlap ``[start, end]`` most, else the nearest within
    :data:`NEAREST_S`, else ``""``."""
    i = bisect.bisect_right(starts, end)
    overlap: dict[str, float] = {}
    for t in turns[max(0, i - 8) : i]:
        shared = min(end, t.end) - max(start, t.start)
        if shared > 0:
            overlap[t.speaker] = overlap.get(t.speaker, 0.0) + shared
    if overlap:
        return max(overlap, key=lambda who: overlap[who])
    near = [t for t in turns[max(0, i - 2) : i + 2]]
    if not near:
        return ""
    gap, who = min((max(t.start - end, start - t.end, 0.0), t.speaker) for t in near)
    return who if gap <= NEAREST_S else ""
