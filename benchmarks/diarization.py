"""Speaker diarization on real recordings: taskdeck's embedded diarizer against the raw recipe.

Recordings (no one here made them): pyannote-audio's phone call ``sample`` and its 30 s AMI
excerpts (``trn*`` for tuning; ``dev*``, ``tst*`` held out, never tuned on), fetched from its
sdist on PyPI by :mod:`taskdeck.evaluation.recordings`; with ``--examples``, the two example
meetings too (synthetic voices, rendered turns).

For each recording, in one run on the same weights:

- taskdeck: the ``diarizer-campplus`` pack on ``backend=diarizer`` (segmentation-3.0 + CAM++ as
  ONNX graphs on onnxruntime);
- senko: senko 0.2.2's own pipeline on CPU (Silero VAD, CAM++ on torch, spectral clustering),
  run by ``benchmarks/senko_recipe.py`` in its own virtual environment (see that file for how to
  make it; ``--senko /path/to/python``), when given: its merged turns (what it returns to a
  user) and its raw segments (before it drops segments of 0.78 s and less).

Prints DER (10 ms frames, no collar, overlap counted, best speaker mapping) and its parts,
speakers found and the reference's, and seconds per file (model load and one warm-up excluded),
then the means per set and the ratios. Run from the repository root, alone on the machine:

  python benchmarks/diarization.py [--senko /tmp/senko-venv/bin/python] [--examples] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("launch_meeting", "clinic_meeting")


def taskdeck_diarizer(threads: int):
    from taskdeck import DIARIZE, BackendParams
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.engine.session_context import SessionContext

    ctx = SessionContext(get_session(), BackendParams(threads=threads), quiet=True)
    backend, _ = ctx.model("diarizer-campplus", needs=[DIARIZE])
    return backend


def senko_turns(python: str, files: list[Path]) -> dict[str, tuple[list, list, float]]:
    """senko's merged and raw turns and seconds per file, from its own venv (WAV copies at 16 kHz)."""
    import soundfile as sf

    from taskdeck.helpers.audio import load_audio

    with tempfile.TemporaryDirectory() as tmp:
        wavs = []
        for path in files:
            wav = Path(tmp) / f"{path.stem}.wav"
            sf.write(wav, load_audio(str(path)).samples, 16000)
            wavs.append(wav)
        done = subprocess.run(
            [python, str(ROOT / "benchmarks" / "senko_recipe.py"), *map(str, wavs)],
            capture_output=True,
            text=True,
            check=True,
        )
    out = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        out[Path(row["file"]).stem] = (
            [tuple(t) for t in row["turns"]],
            [tuple(t) for t in row["raw_turns"]],
            row["seconds"],
        )
    return out


def main() -> None:
    from taskdeck.evaluation.diarization import diarization_error_rate, read_rttm
    from taskdeck.evaluation.recordings import pyannote_recordings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senko", help="python of a venv with senko==0.2.2 (benchmarks/senko_recipe.py)")
    parser.add_argument("--examples", action="store_true", help="also the two example meetings")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    items = [(r.name, "held out" if r.held_out else "tuning", r.audio, r.reference) for r in pyannote_recordings()]
    if args.examples:
        for name in EXAMPLES:
            audio = ROOT / "examples" / "meeting" / f"{name}.mp3"
            items.append((name, "examples", audio, read_rttm(audio.with_suffix(".rttm"))))
    diarizer = taskdeck_diarizer(args.threads)
    diarizer.diarize(str(items[0][2]))  # warm-up: onnxruntime's first runs
    raw = senko_turns(args.senko, [audio for _, _, audio, _ in items]) if args.senko else {}

    rows = []
    for name, group, audio, reference in items:
        start = time.perf_counter()
        turns = [tuple(t) for t in diarizer.diarize(str(audio))]
        results = [("taskdeck", turns, time.perf_counter() - start)]
        if name in raw:
            merged, unmerged, seconds = raw[name]
            results += [("senko", merged, seconds), ("senko raw segments", unmerged, seconds)]
        for system, hyp, seconds in results:
            score = diarization_error_rate(reference, hyp)
            found, truth = len({t[2] for t in hyp}), len({t[2] for t in reference})
            rows.append((group, name, system, score, found, truth, seconds))

    print("set | recording | system | DER | missed | false alarm | confusion | speakers (found/true) | seconds")
    print("---|---|---|---|---|---|---|---|---")
    for group, name, system, s, found, truth, seconds in rows:
        print(
            f"{group} | {name} | {system} | {s['der']:.3f} | {s['missed']:.3f} | {s['false_alarm']:.3f} | "
            f"{s['confusion']:.3f} | {found}/{truth} | {seconds:.2f}"
        )
    print()
    for group in dict.fromkeys(r[0] for r in rows):
        for system in dict.fromkeys(r[2] for r in rows):
            chosen = [r for r in rows if r[0] == group and r[2] == system]
            if chosen:
                right = sum(r[4] == r[5] for r in chosen)
                print(
                    f"{group}, {system}: mean DER {mean(r[3]['der'] for r in chosen):.3f}, speakers right "
                    f"{right}/{len(chosen)}, {sum(r[6] for r in chosen):.2f} s"
                )
    if raw:
        ours = sum(r[6] for r in rows if r[2] == "taskdeck" and r[1] in raw)
        theirs = sum(r[6] for r in rows if r[2] == "senko")  # one run gives both senko rows
        print(f"taskdeck/senko seconds: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
