"""Speaker labels from a diarization backend (the ``diarize`` capability), put on segments.

No diarization model is packaged, so by default segments carry no speaker and owners come
from what is said ("Tom, can you ..."). A plugin backend offering ``diarize(audio)`` →
``[(start_s, end_s, speaker), ...]`` (e.g. pyannote) plugs in with ``diarization=<model>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from taskdeck import Segment


def assign_speakers(segments: Sequence[Segment], turns: Sequence[tuple[float, float, str]]) -> None:
    """Give each segment the speaker whose turns overlap it most (in place)."""
    for seg in segments:
        overlap: dict[str, float] = {}
        for start, end, speaker in turns:
            shared = min(seg.end, end) - max(seg.start, start)
            if shared > 0:
                overlap[speaker] = overlap.get(speaker, 0.0) + shared
        if overlap:
            seg.speaker = max(overlap, key=lambda who: overlap[who])
