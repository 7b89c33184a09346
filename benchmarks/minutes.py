"""Meeting minutes, whole process: real-time factor and where the time goes.

Runs ``python run.py task=minutes audio=<file>`` as a user would (model loads included) and
reads the run's ``result.json``: wall seconds, speech-to-text seconds (``asr_s``, decoding
included), chat-model seconds (``llm_s``) and model load seconds. Decoding alone is timed
separately in this process with taskdeck's audio loader. The real-time factor is wall
seconds / audio seconds (target: <= 0.25 on 2 cores with the embedded defaults).

Run from the repository root:
  python benchmarks/minutes.py [--audio examples/meeting/launch_meeting.mp3] [--runs 1] [extra overrides...]
  python benchmarks/minutes.py llm.model=qwen2.5-coder-0.5b      # the light chat model
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


def decode_seconds(audio: str) -> tuple[float, float]:
    """Seconds to decode and resample the file to 16 kHz mono, and its duration."""
    from taskdeck.helpers.audio import load_audio

    start = time.perf_counter()
    wave = load_audio(audio)
    return time.perf_counter() - start, wave.duration


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", default=str(ROOT / "examples" / "meeting" / "launch_meeting.mp3"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("overrides", nargs="*", help="extra task overrides, e.g. llm.model=qwen2.5-coder-0.5b")
    args = ap.parse_args()

    decode_s, audio_s = decode_seconds(args.audio)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            run_dir = Path(tmp) / f"run{i}"
            cmd = [
                sys.executable,
                "run.py",
                "task=minutes",
                f"audio={args.audio}",
                "output=json",
                "quiet=true",
                *args.overrides,
                f"hydra.run.dir={run_dir}",
            ]
            start = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                sys.exit(f"run failed: {proc.stderr.strip()}")
            metrics = json.loads((run_dir / "result.json").read_text())["metrics"]
            rows.append((wall, metrics))
            print(
                f"run {i + 1}: wall {wall:.1f} s  asr {metrics['asr_s']:.1f} s  llm {metrics['llm_s']:.1f} s  "
                f"load {metrics['load_s']:.1f} s  peak RSS {metrics['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    wall = statistics.median(r[0] for r in rows)
    asr = statistics.median(r[1]["asr_s"] for r in rows)
    llm = statistics.median(r[1]["llm_s"] for r in rows)
    other = wall - asr - llm
    print(f"\naudio {audio_s:.1f} s ({Path(args.audio).name}), median of {len(rows)} run(s)")
    print(f"  decoding        {decode_s:6.2f} s  (inside speech-to-text)")
    print(f"  speech-to-text  {asr:6.2f} s  {asr / wall:5.1%}")
    print(f"  minutes (LLM)   {llm:6.2f} s  {llm / wall:5.1%}")
    print(f"  start-up, rest  {other:6.2f} s  {other / wall:5.1%}")
    print(f"  whole process   {wall:6.2f} s  real-time factor {wall / audio_s:.3f} (target <= 0.25)")


if __name__ == "__main__":
    main()
