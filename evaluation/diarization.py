"""Diarization error rate (DER) of speaker turns against a reference, and RTTM files.

DER = (missed speech + false alarm + speaker confusion) / reference speech, counted on 10 ms
frames, with hypothesis speakers mapped one-to-one onto reference speakers to maximise the
time they share (the Hungarian method, as NIST's md-eval and pyannote.metrics do). A
``collar`` (seconds) around each reference boundary is not scored. Overlapping reference
speech counts once per speaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

FRAME_S = 0.01
Turns = Sequence[tuple[float, float, str]]


def read_rttm(path: str | Path) -> list[tuple[float, float, str]]:
    """(start, end, speaker) of each ``SPEAKER`` line of an RTTM file."""
    turns = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append((start, start + duration, fields[7]))
    return turns


def write_rttm(turns: Turns, name: str = "audio") -> str:
    """The turns as RTTM text."""
    return "".join(f"SPEAKER {name} 1 {a:.3f} {b - a:.3f} <NA> <NA> {who} <NA> <NA>\n" for a, b, who in turns)


def diarization_error_rate(reference: Turns, hypothesis: Turns, collar: float = 0.0) -> dict[str, Any]:
    """``der`` and its parts (fractions of reference speech), the reference speech in
    seconds, and the mapping of hypothesis speakers to reference speakers."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    end = max([b for _, b, _ in reference] + [b for _, b, _ in hypothesis] + [0.0])
    n = int(np.ceil(end / FRAME_S)) + 1
    ref_names = sorted({s for *_, s in reference})
    hyp_names = sorted({s for *_, s in hypothesis})
    ref = _activity(reference, ref_names, n)
    hyp = _activity(hypothesis, hyp_names, n)
    scored = np.ones(n, dtype=bool)
    if collar > 0:
        for a, b, _ in reference:
            for t in (a, b):
                scored[max(0, int((t - collar) / FRAME_S)) : int(np.ceil((t + collar) / FRAME_S))] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    total = float(n_ref.sum())
    if not total:
        return {"der": 0.0 if not n_hyp.sum() else 1.0, "missed": 0.0, "false_alarm": 0.0, "confusion": 0.0}
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64) if len(hyp) else np.zeros((len(ref), 0))
    rows, cols = linear_sum_assignment(-overlap) if overlap.size else ([], [])
    mapped = np.zeros(ref.shape[1])
    for r, c in zip(rows, cols):
        mapped += ref[r] & hyp[c]
    missed = np.maximum(n_ref - n_hyp, 0).sum()
    false_alarm = np.maximum(n_hyp - n_ref, 0).sum()
    confusion = (np.minimum(n_ref, n_hyp) - mapped).sum()
    return {
        "der": round(float(missed + false_alarm + confusion) / total, 4),
        "missed": round(float(missed) / total, 4),
        "false_alarm": round(float(false_alarm) / total, 4),
        "confusion": round(float(confusion) / total, 4),
        "speech_s": round(total * FRAME_S, 2),
        "mapping": {hyp_names[c]: ref_names[r] for r, c in zip(rows, cols)},
    }


def _activity(turns: Turns, names: list[str], n: int) -> Any:
    import numpy as np

    grid = np.zeros((len(names), n), dtype=bool)
    index = {name: i for i, name in enumerate(names)}
    for a, b, who in turns:
        grid[index[who], int(round(a / FRAME_S)) : int(round(b / FRAME_S))] = True
    return grid
