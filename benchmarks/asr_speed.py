"""Speech-to-text, whole process: taskdeck ``task=asr`` vs raw faster-whisper, same model.

Both run as fresh processes on the same file and the same model folder (the embedded
``whisper-tiny.en`` pack by default), beam 5, VAD on, int8 on CPU, all cores: the raw side
is the few lines a faster-whisper user writes (``WhisperModel(...).transcribe(path)``, which
decodes with PyAV). Prints each side's median wall time, the real-time factor, and the
speed ratio raw/taskdeck (target >= 0.95x).

Run from the repository root:
  python benchmarks/asr_speed.py [--audio examples/meeting/launch_meeting.mp3] [--model whisper-tiny.en] [--runs 3]
"""

import argparse
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


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd[:4])}: {proc.stderr.strip()[-400:]}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", default=str(ROOT / "examples" / "meeting" / "launch_meeting.mp3"))
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.helpers.audio import audio_duration
    from taskdeck.models import resolve

    folder = str(resolve(args.model, get_session().packs).path())
    seconds = audio_duration(args.audio) or 0.0
    ours, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):  # interleaved, so load on the machine hits both alike
            raw.append(timed([sys.executable, "-c", RAW, folder, args.audio]))
            ours.append(
                timed(
                    [
                        sys.executable,
                        "run.py",
                        "task=asr",
                        f"audio={args.audio}",
                        f"model={args.model}",
                        "quiet=true",
                        "output=json",
                        f"hydra.run.dir={tmp}/run{i}",
                    ]
                )
            )
            print(f"run {i + 1}: raw faster-whisper {raw[-1]:.2f} s, taskdeck {ours[-1]:.2f} s", flush=True)
    t_raw, t_ours = statistics.median(raw), statistics.median(ours)
    print(f"\naudio {seconds:.1f} s, model {args.model}, median of {args.runs}")
    print(f"  raw faster-whisper  {t_raw:6.2f} s  real-time factor {t_raw / seconds:.3f}")
    print(f"  taskdeck task=asr   {t_ours:6.2f} s  real-time factor {t_ours / seconds:.3f}")
    print(f"  speed ratio (raw / taskdeck): {t_raw / t_ours:.2f}x (target >= 0.95x)")


if __name__ == "__main__":
    main()
