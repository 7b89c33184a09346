"""Transcripts shared by speech tasks: audio → :class:`Transcript` through any ``transcribe``
backend (bounded pieces, times shifted to the whole file), and transcript files read back.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any, Optional

from taskdeck import TRANSCRIBE, InputError, Segment, Transcript

DEFAULT_ASR_MODEL = "whisper-tiny.en"


def transcribe_audio(
    ctx,
    audio: str,
    *,
    model: str = DEFAULT_ASR_MODEL,
    backend: Any = None,
    language: Optional[str] = None,
    translate: bool = False,
    word_timestamps: bool = False,
    chunk_s: float = 600.0,
    **options: Any,
) -> Transcript:
    """``audio`` (a path) → :class:`Transcript` with ``model`` on ``backend`` (default: the run's).

    Local backends get the recording in quiet-cut pieces; segment times are shifted to the
    whole file. A remote backend (an API) gets the file itself. Silent or undecodable audio
    is one :class:`InputError` line, raised before any model loads."""
    from .audio import audio_duration, check_sound, stream_audio

    path = str(audio)
    pieces = stream_audio(path, chunk_s=chunk_s)
    first = next(pieces)  # decodes the start: a missing or corrupt file fails here, before loading
    engine, _ = ctx.model(model, needs=[TRANSCRIBE], backend=backend)
    engine.check_language(language, translate)
    kwargs = dict(language=language, translate=translate, word_timestamps=word_timestamps, **options)
    total = audio_duration(path)
    bar = ctx.progress(None, total=round(total, 1) if total else None, desc="speech-to-text", unit="s", leave=True)
    with ctx.watch.time("asr"):
        if engine.remote:
            check_sound(path, _peak_until_sound(itertools.chain([first], pieces)))
            result = engine.transcribe(path, progress=_advance(bar, 0.0), **kwargs)
            bar.close()
            return result
        segments, languages, peak, end, method = [], [], 0.0, 0.0, model
        for piece in itertools.chain([first], pieces):
            peak = max(peak, piece.peak)
            end = piece.offset + piece.duration
            if piece.is_silent():
                bar.update(max(0.0, end - bar.n))
                continue
            part = engine.transcribe(piece, progress=_advance(bar, piece.offset), **kwargs)
            languages.append(part.language)
            method = part.method
            segments += [_shifted(s, piece.offset) for s in part.segments]
            bar.update(max(0.0, end - bar.n))
        bar.close()
    check_sound(path, peak)
    return Transcript(
        text=" ".join(s.text for s in segments if s.text).strip(),
        segments=segments,
        language=max(set(languages), key=languages.count) if languages else (language or ""),
        duration=round(end, 3),
        source=path,
        method=method,
    )


def _peak_until_sound(pieces) -> float:
    """The highest peak, reading only until one piece has sound."""
    peak = 0.0
    for piece in pieces:
        peak = max(peak, piece.peak)
        if not piece.is_silent():
            break
    return peak


def _advance(bar, offset: float):
    """A ``progress(seconds_done_in_piece)`` callback moving ``bar`` in seconds of the file."""

    def progress(seconds: float) -> None:
        target = round(offset + seconds, 1)
        if target > bar.n:
            bar.update(target - bar.n)

    return progress


def _shifted(segment: Segment, offset: float) -> Segment:
    if not offset:
        return segment
    for w in segment.words:
        w.start, w.end = w.start + offset, w.end + offset
    segment.start, segment.end = segment.start + offset, segment.end + offset
    return segment


# ---- transcripts from files ----
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"


def read_transcript(path: str) -> Transcript:
    """A transcript file as a :class:`Transcript`: ``.json`` (taskdeck's, or any
    ``{"text", "segments": [{start, end, text}]}``), ``.srt``, ``.vtt``, or plain text
    (one segment per non-empty line; ``Name: words`` lines give the speaker)."""
    file = Path(str(path)).expanduser()
    if not file.is_file():
        raise InputError(f"transcript file '{path}' does not exist")
    try:
        raw = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"transcript file '{path}' is not UTF-8 text") from None
    suffix = file.suffix.lower()
    if suffix == ".json":
        segments, text, language = _json_segments(raw, path)
    elif suffix in (".srt", ".vtt"):
        segments, text, language = _cue_segments(raw), "", ""
    else:
        segments = _text_segments(raw)
        text, language = "", ""
    text = text or " ".join(s.text for s in segments)
    if not text.strip():
        raise InputError(f"transcript file '{path}' is empty")
    duration = max((s.end for s in segments), default=0.0)
    return Transcript(
        text=text.strip(),
        segments=segments,
        language=language,
        duration=duration,
        source=str(path),
        method=f"read from {file.name}",
    )


_NAMED_LINE = re.compile(r"^([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3}):\s+(\S.*)$")


def _text_segments(raw: str) -> list[Segment]:
    """One segment per non-empty line; ``Name: words`` lines (most of them) name their speaker."""
    lines = [ln.strip() for ln in raw.splitlines() if ln.strip()]
    named = [_NAMED_LINE.match(ln) for ln in lines]
    if lines and sum(m is not None for m in named) >= 0.6 * len(lines):
        return [
            Segment(0.0, 0.0, m.group(2).strip(), speaker=m.group(1)) if m else Segment(0.0, 0.0, ln)
            for ln, m in zip(lines, named)
        ]
    return [Segment(0.0, 0.0, ln) for ln in lines]


def _json_segments(raw: str, path: str) -> tuple[list[Segment], str, str]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"transcript file '{path}' is not valid JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("result"), dict):  # a taskdeck result.json
        data = data["result"]
    items = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            return [Segment(0.0, 0.0, data["text"].strip())], data["text"], str(data.get("language") or "")
        raise InputError(f"transcript file '{path}' has no 'segments' list or 'text'")
    segments = []
    for item in items:
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            continue
        segments.append(
            Segment(
                float(item.get("start") or 0.0),
                float(item.get("end") or 0.0),
                str(item["text"]).strip(),
                speaker=str(item.get("speaker") or ""),
            )
        )
    text = str(data.get("text") or "") if isinstance(data, dict) else ""
    return segments, text, str(data.get("language") or "") if isinstance(data, dict) else ""


def _cue_segments(raw: str) -> list[Segment]:
    """SRT/VTT cues: a ``start --> end`` line, then text lines up to a blank line."""
    segments, lines = [], raw.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        m = re.match(rf"\s*{_TIME}\s*-->\s*{_TIME}", lines[i])
        if not m:
            i += 1
            continue
        start, end = _seconds(*m.groups()[:4]), _seconds(*m.groups()[4:])
        i += 1
        text, speaker = [], ""
        while i < len(lines) and lines[i].strip():
            voice = re.match(r"^\s*<v\s+([^>]+)>", lines[i])
            speaker = voice.group(1).strip() if voice else speaker
            text.append(re.sub(r"<[^>]+>", "", lines[i]).strip())
            i += 1
        joined = " ".join(t for t in text if t)
        if joined:
            segments.append(Segment(start, end, joined, speaker=speaker))
    return segments


def _seconds(h: Optional[str], m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")[:3]) / 1000
