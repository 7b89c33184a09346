"""Render the example meeting script to audio with taskdeck's own text-to-speech.

Each ``Name: words`` line of the script is spoken by the embedded Piper voice (``piper-joe``,
through taskdeck's ``speak`` capability, the same path as ``task=tts``), each speaker at a
slightly different pace, with a pause between turns; the speaker names are not spoken, as in
a real recording. The result is resampled to 16 kHz mono and written as MP3 (~25 kbit/s).

    python examples/meeting/render.py                       # writes examples/meeting/launch_meeting.mp3
    python examples/meeting/render.py my_script.txt out.mp3
"""

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAUSE_S = 0.7
RATE = 16000
#: Speaking pace per speaker (Piper's length scale: above 1 is slower).
PACES = [1.0, 1.1, 0.92, 1.05, 0.97]


def turns(script: Path) -> list[tuple[str, str]]:
    out = []
    for line in script.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*([^:]{1,40}):\s*(.+)$", line)
        if m:
            out.append((m.group(1).strip(), m.group(2).strip()))
    return out


def render(script: Path, target: Path) -> float:
    import numpy as np
    import soundfile as sf
    import soxr

    from taskdeck import SPEAK, BackendParams
    from taskdeck.context import RunContext
    from taskdeck.plugin_manager import get_session

    ctx = RunContext(get_session(), BackendParams(), quiet=True)
    backend, _ = ctx.model("piper-joe", needs=[SPEAK], backend="auto")
    speakers: dict[str, float] = {}
    pieces = [np.zeros(int(PAUSE_S * RATE), dtype="float32")]  # a moment before the first word
    for name, words in turns(script):
        pace = speakers.setdefault(name, PACES[len(speakers) % len(PACES)])
        audio = backend.speak(words, length_scale=pace)
        pieces.append(soxr.resample(np.asarray(audio.samples, dtype="float32"), audio.sample_rate, RATE))
        pieces.append(np.zeros(int(PAUSE_S * RATE), dtype="float32"))
    ctx.close()
    samples = np.concatenate(pieces)
    sf.write(target, samples, RATE, format="MP3", compression_level=0.9, bitrate_mode="CONSTANT")
    return len(samples) / RATE


if __name__ == "__main__":
    script = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "launch_meeting.txt"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else script.with_suffix(".mp3")
    seconds = render(script, target)
    print(f"{target}: {seconds:.1f} s of audio")
