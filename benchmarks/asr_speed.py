"""Speech-to-text, whole process: taskdeck ``task=asr`` vs raw faster-whisper, same model.

Every side runs as a fresh process on the same file and model folder (the embedded
``whisper-tiny.en`` pack by default), beam 5, VAD on, int8 on CPU, all cores:

  raw          the few lines a faster-whisper user writes: ``WhisperModel(...).transcribe(path)``
  raw-batched  the same through ``BatchedInferencePipeline(model).transcribe(path, batch_size=8)``,
               as faster-whisper's README shows for speed
  taskdeck     ``run.py task=asr audio=<file>`` (batches of 8, sentence segments)

interleaved run by run. Prints each side's median wall time, real-time factor and the speed
ratios raw/taskdeck (target >= 1.2x) and raw-batched/taskdeck.

``--wer`` adds each side's word error rate on recordings with a human or script transcript:
the two example meetings (their scripts) and pyannote-audio's real phone call (its ``.stm``;
fetched once from PyPI), after Whisper's English text normaliser (from transformers).

Run from the repository root, alone on the machine:
  python benchmarks/asr_speed.py [--audio examples/meeting/launch_meeting.mp3] [--model whisper-tiny.en]
      [--runs 3] [--wer]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8")
segments, info = model.transcribe(sys.argv[2], beam_size=5, vad_filter=True)
text = " ".join(s.text.strip() for s in segments)
print(text)
"""
RAW_BATCHED = """
import sys
from faster_whisper import BatchedInferencePipeline, WhisperModel
model = BatchedInferencePipeline(WhisperModel(sys.argv[1], device="cpu", compute_type="int8"))
segments, info = model.transcribe(sys.argv[2], beam_size=5, batch_size=8)
text = " ".join(s.text.strip() for s in segments)
print(text)
"""


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of ``cmd`` and its standard output."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd[:4])}: {proc.stderr.strip()[-400:]}")
    return time.perf_counter() - start, proc.stdout


def sides(folder: str, audio: str, model: str, run_dir: Path) -> dict[str, tuple[float, str]]:
    """One timed run of each side: seconds and the transcript's text."""
    out = {
        "raw": timed([sys.executable, "-c", RAW, folder, audio]),
        "raw-batched": timed([sys.executable, "-c", RAW_BATCHED, folder, audio]),
    }
    cmd = [sys.executable, "run.py", "task=asr", f"audio={audio}", f"model={model}", "quiet=true", "output=json"]
    seconds, _ = timed([*cmd, f"hydra.run.dir={run_dir}"])
    out["taskdeck"] = seconds, json.loads((run_dir / "result.json").read_text())["result"]["text"]
    return out


def references() -> list[tuple[str, str, str]]:
    """(name, audio, reference text) of the recordings with a transcript."""
    from taskdeck.evaluation.recordings import pyannote_recordings

    def script(path: Path) -> str:
        return " ".join(line.split(":", 1)[1] for line in path.read_text().splitlines() if ":" in line)

    meetings = ROOT / "examples" / "meeting"
    call = pyannote_recordings()[0].audio
    stm = call.with_suffix(".stm").read_text().splitlines()
    return [
        ("launch_meeting (script)", str(meetings / "launch_meeting.mp3"), script(meetings / "launch_meeting.txt")),
        ("clinic_meeting (script)", str(meetings / "clinic_meeting.mp3"), script(meetings / "clinic_meeting.txt")),
        ("phone call (real, .stm)", str(call), " ".join(line.split(None, 5)[5] for line in stm)),
    ]


def word_error_rates(folder: str, model: str, tmp: Path) -> None:
    import jiwer
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    normalise = EnglishTextNormalizer({})
    print(f"\nword error rate, model {model} (Whisper's English normaliser)")
    print(f"  {'recording':26} {'raw':>8} {'raw-batched':>12} {'taskdeck':>9}")
    totals: dict[str, list[float]] = {}
    for i, (name, audio, reference) in enumerate(references()):
        texts = sides(folder, audio, model, tmp / f"wer{i}")
        rates = {side: jiwer.wer(normalise(reference), normalise(text)) for side, (_, text) in texts.items()}
        for side, rate in rates.items():
            totals.setdefault(side, []).append(rate)
        print(f"  {name:26} {rates['raw']:8.1%} {rates['raw-batched']:12.1%} {rates['taskdeck']:9.1%}")
    mean = {side: statistics.mean(v) for side, v in totals.items()}
    print(f"  {'mean':26} {mean['raw']:8.1%} {mean['raw-batched']:12.1%} {mean['taskdeck']:9.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", default=str(ROOT / "examples" / "meeting" / "launch_meeting.mp3"))
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wer", action="store_true", help="also word error rates on recordings with transcripts")
    args = ap.parse_args()

    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.helpers.audio import audio_duration
    from taskdeck.models import resolve

    folder = str(resolve(args.model, get_session().packs).path())
    seconds = audio_duration(args.audio) or 0.0
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):  # interleaved, so load on the machine hits every side alike
            run = sides(folder, args.audio, args.model, Path(tmp) / f"run{i}")
            for side, (t, _) in run.items():
                times.setdefault(side, []).append(t)
            print(f"run {i + 1}: " + ", ".join(f"{side} {t:.2f} s" for side, (t, _) in run.items()), flush=True)
        median = {side: statistics.median(t) for side, t in times.items()}
        print(f"\naudio {seconds:.1f} s, model {args.model}, median of {args.runs}")
        for side, t in median.items():
            print(f"  {side:12} {t:6.2f} s  real-time factor {t / seconds:.3f}")
        print(f"  speed ratio raw / taskdeck:          {median['raw'] / median['taskdeck']:.2f}x (target >= 1.2x)")
        print(f"  speed ratio raw-batched / taskdeck:  {median['raw-batched'] / median['taskdeck']:.2f}x")
        if args.wer:
            word_error_rates(folder, args.model, Path(tmp))


if __name__ == "__main__":
    main()
