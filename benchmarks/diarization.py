"""Speaker diarization: error rate and speed of taskdeck's diarizer against raw Resemblyzer.

For each example meeting (``examples/meeting/*.mp3`` with their rendered turns as RTTM),
in one process:

- taskdeck: the ``voice-ge2e`` pack on ``backend=resemblyzer`` (Silero VAD, GE2E windows of
  1.6 s every 0.4 s, clustering, turns);
- raw: Resemblyzer's own library as its README shows it, ``VoiceEncoder.embed_utterance(wav,
  return_partials=True)`` over the whole recording at the same rate, its partials clustered by
  the same agglomerative clustering into the same number of speakers taskdeck found (the raw
  library has no speech detection and no estimate of the number of speakers).

Prints DER (no collar, and NIST's 0.25 s collar), its parts, the speakers found, and seconds
(model load excluded), with the ratios. Run from the repository root, alone on the machine:

  python benchmarks/diarization.py
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEETINGS = ("launch_meeting", "clinic_meeting")


def taskdeck_diarizer():
    from taskdeck import DIARIZE, BackendParams
    from taskdeck.context import RunContext
    from taskdeck.plugin_manager import get_session

    ctx = RunContext(get_session(), BackendParams(), quiet=True)
    backend, _ = ctx.model("voice-ge2e", needs=[DIARIZE])
    return backend


def raw_resemblyzer(path: Path, speakers: int) -> list[tuple[float, float, str]]:
    """Resemblyzer's partial embeddings of the whole file, clustered; a turn per run of labels."""
    from scipy.cluster.hierarchy import fcluster, linkage

    from taskdeck.helpers.audio import load_audio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder

    encoder = VoiceEncoder("cpu", verbose=False)
    wav = load_audio(str(path)).samples
    start = time.perf_counter()
    _, partials, slices = encoder.embed_utterance(wav, return_partials=True, rate=2.5)
    labels = fcluster(linkage(partials, "average", metric="cosine"), t=speakers, criterion="maxclust")
    centres = [(s.start + s.stop) / 2 / 16000 for s in slices]
    turns: list[tuple[float, float, str]] = []
    for i, (centre, label) in enumerate(zip(centres, labels)):
        begin = 0.0 if i == 0 else (centres[i - 1] + centre) / 2
        end = len(wav) / 16000 if i + 1 == len(centres) else (centre + centres[i + 1]) / 2
        if turns and turns[-1][2] == f"R{label}":
            turns[-1] = (turns[-1][0], end, turns[-1][2])
        else:
            turns.append((begin, end, f"R{label}"))
    raw_resemblyzer.seconds = time.perf_counter() - start  # type: ignore[attr-defined]
    return turns


def main() -> None:
    from taskdeck.evaluation.diarization import diarization_error_rate, read_rttm

    diarizer = taskdeck_diarizer()
    diarizer.diarize(str(ROOT / "examples" / "meeting" / "clinic_meeting.mp3"))  # warm up: VAD session, torch
    raw_resemblyzer(ROOT / "examples" / "meeting" / "clinic_meeting.mp3", 5)
    rows = []
    for name in MEETINGS:
        audio = ROOT / "examples" / "meeting" / f"{name}.mp3"
        reference = read_rttm(audio.with_suffix(".rttm"))
        start = time.perf_counter()
        ours = diarizer.diarize(str(audio))
        ours_s = time.perf_counter() - start
        found = len({t.speaker for t in ours})
        raw = raw_resemblyzer(audio, found)
        raw_s = raw_resemblyzer.seconds  # type: ignore[attr-defined]
        for label, turns, seconds in (("taskdeck", ours, ours_s), ("raw resemblyzer", raw, raw_s)):
            score = diarization_error_rate(reference, turns)
            collar = diarization_error_rate(reference, turns, collar=0.25)["der"]
            rows.append((name, label, score, collar, len({t[2] for t in turns}), seconds))
    print("meeting | diarizer | DER | DER (0.25 s collar) | missed | false alarm | confusion | speakers | seconds")
    for name, label, score, collar, speakers, seconds in rows:
        print(
            f"{name} | {label} | {score['der']:.3f} | {collar:.3f} | {score['missed']:.3f} | "
            f"{score['false_alarm']:.3f} | {score['confusion']:.3f} | {speakers} | {seconds:.2f}"
        )
    for i in range(0, len(rows), 2):
        ours, raw = rows[i], rows[i + 1]
        print(
            f"{ours[0]}: taskdeck/raw seconds {ours[5] / raw[5]:.2f}x, DER {ours[2]['der']:.3f} vs {raw[2]['der']:.3f}"
        )


if __name__ == "__main__":
    main()
