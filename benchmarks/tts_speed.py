"""Text-to-speech speed: taskdeck ``task=tts`` vs raw piper-tts, same voice, whole process.

Both sides speak the same paragraph with the embedded ``piper-joe`` voice and write a WAV;
prints characters per second of each, the real-time factor (synthesis seconds per second
of speech) and the speed ratio raw/taskdeck.

Run from the repository root:
  python benchmarks/tts_speed.py [--runs 3] [--repeat 4]
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
PARAGRAPH = (
    "Good morning everyone, and thank you for joining. Today we review the launch plan, the budget and "
    "the press campaign. Engineering has finished the frame and the motor, and the firmware is in "
    "testing. Marketing will prepare the press kit for the trade show. "
)
RAW = """
import sys, wave
from piper import PiperVoice
voice = PiperVoice.load(sys.argv[1])
with wave.open(sys.argv[3], "wb") as w:
    voice.synthesize_wav(sys.argv[2], w)
"""


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {proc.stderr.strip()[-400:]}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=4, help="paragraph copies in the text")
    args = ap.parse_args()

    from taskdeck.engine.plugin_manager import get_session

    voice = str(get_session().packs.get("piper-joe").path())
    text = PARAGRAPH * args.repeat
    ours, raw, audio_s = [], [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            raw.append(timed([sys.executable, "-c", RAW, voice, text, f"{tmp}/raw{i}.wav"]))
            run_dir = Path(tmp) / f"run{i}"
            ours.append(
                timed(
                    [
                        sys.executable,
                        "run.py",
                        "task=tts",
                        f"text='{text}'",
                        "quiet=true",
                        "output=[json,wav]",
                        f"hydra.run.dir={run_dir}",
                    ]
                )
            )
            audio_s = json.loads((run_dir / "result.json").read_text())["result"]["duration_s"]
            print(f"run {i + 1}: raw piper {raw[-1]:.2f} s, taskdeck {ours[-1]:.2f} s", flush=True)
    t_raw, t_ours = statistics.median(raw), statistics.median(ours)
    print(f"\n{len(text)} characters, {audio_s:.1f} s of speech, median of {args.runs} (whole process)")
    print(f"  raw piper-tts   {t_raw:6.2f} s  {len(text) / t_raw:7.1f} chars/s  real-time factor {t_raw / audio_s:.3f}")
    print(
        f"  taskdeck tts    {t_ours:6.2f} s  {len(text) / t_ours:7.1f} chars/s  real-time factor {t_ours / audio_s:.3f}"
    )
    print(f"  speed ratio (raw / taskdeck): {t_raw / t_ours:.2f}x")


if __name__ == "__main__":
    main()
