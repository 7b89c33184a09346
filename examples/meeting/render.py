"""Render a meeting script to audio, one clearly different voice per speaker.

Each ``Name: words`` line of the script is spoken in the voice of its speaker; the speaker
names are not spoken, as in a real recording. Voices go to speakers in order of first
appearance (``VOICES``) unless ``CASTS`` picks one for a script's speaker: the embedded Piper
voice (``piper-joe``, through taskdeck's ``speak`` capability, the path ``task=tts`` takes)
shifted in pitch and formants by resampling, and espeak-ng voices (Debian's ``espeak-ng``).
Turns are separated by a short pause; the result is 16 kHz mono MP3 (~24 kbit/s), and the
turn times go beside it as RTTM (the reference for the diarization error rate;
``benchmarks/diarization.py``).

    pip install -e ".[tts,piper-voice]" && apt-get install espeak-ng
    python examples/meeting/render.py                               # both example meetings
    python examples/meeting/render.py my_script.txt my_meeting.mp3  # a script of your own
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RATE = 16000
PAUSE_S = 0.6
LEVEL_DBFS = -20.0


@dataclass(frozen=True)
class Voice:
    """``engine`` "piper": the Piper voice, resampled by ``shift`` (1.25 = pitch and formants a
    quarter higher) at pace ``pace``; "espeak": the espeak-ng voice ``name`` at ``pace`` words
    per minute and ``pitch`` (0-99)."""

    engine: str
    name: str = ""
    shift: float = 1.0
    pace: float = 1.0
    pitch: int = 50

    def describe(self) -> str:
        if self.engine == "piper":
            return f"piper-joe shifted x{self.shift} at pace {self.pace}"
        return f"espeak-ng {self.name} at {self.pace:.0f} wpm, pitch {self.pitch}"


#: In order of first appearance in a script. Chosen for distance between their GE2E voice
#: embeddings (cosine similarity of the speakers' centroids <= 0.75) and for Whisper
#: tiny.en hearing them well.
VOICES = (
    Voice("piper", shift=1.25, pace=1.0),
    Voice("piper", shift=0.86, pace=1.05),
    Voice("espeak", "en-us+f2", pace=130, pitch=55),
    Voice("espeak", "en-gb-x-rp+klatt3", pace=125, pitch=45),
    Voice("piper", shift=1.0, pace=0.92),
    Voice("espeak", "en-us+f3", pace=135, pitch=60),
)


def turns(script: Path) -> list[tuple[str, str]]:
    out = []
    for line in script.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*([^:]{1,40}):\s*(.+)$", line)
        if m:
            out.append((m.group(1).strip(), m.group(2).strip()))
    return out


class Speakers:
    """Synthesises words in a :class:`Voice`, at 16 kHz and a common loudness."""

    def __init__(self) -> None:
        self._piper = None
        self._ctx = None

    def say(self, words: str, voice: Voice):
        import numpy as np
        import soxr

        if voice.engine == "piper":
            audio = self._piper_voice().speak(words, length_scale=voice.pace * voice.shift)
            samples = soxr.resample(np.asarray(audio.samples, dtype="float32"), audio.sample_rate * voice.shift, RATE)
        else:
            samples = espeak(words, voice)
        rms = float(np.sqrt(np.mean(samples**2))) or 1.0
        return (samples * (10 ** (LEVEL_DBFS / 20) / rms)).astype("float32")

    def _piper_voice(self):
        if self._piper is None:
            from taskdeck import SPEAK, BackendParams
            from taskdeck.engine.plugin_manager import get_session
            from taskdeck.engine.session_context import SessionContext

            self._ctx = SessionContext(get_session(), BackendParams(), quiet=True)
            self._piper, _ = self._ctx.model("piper-joe", needs=[SPEAK], backend="auto")
        return self._piper

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()


def espeak(words: str, voice: Voice):
    import numpy as np
    import soundfile as sf
    import soxr

    cmd = ["espeak-ng", "-v", voice.name, "-s", str(int(voice.pace)), "-p", str(voice.pitch), "--stdout", words]
    try:
        out = subprocess.run(cmd, capture_output=True, check=True).stdout
    except FileNotFoundError:
        sys.exit("espeak-ng is not installed: apt-get install espeak-ng")
    samples, rate = sf.read(io.BytesIO(out), dtype="float32")
    return soxr.resample(np.asarray(samples, dtype="float32"), rate, RATE)


#: Voices picked per script (its file stem) and speaker, by their place in ``VOICES`` (1 = first).
CASTS = {"clinic_meeting": {"Priya": 1, "Grace": 3, "Daniel": 2, "Omar": 4, "Elena": 6}}


def chosen_voices(script: Path) -> dict[str, Voice]:
    return {name: VOICES[number - 1] for name, number in CASTS.get(script.stem, {}).items()}


def render(script: Path, target: Path) -> float:
    """Write ``target`` (MP3) and its RTTM; return the seconds of audio."""
    import numpy as np
    import soundfile as sf

    speakers = Speakers()
    voices = chosen_voices(script)
    free = [v for v in VOICES if v not in voices.values()]
    pause = np.zeros(int(PAUSE_S * RATE), dtype="float32")
    pieces, rttm, t = [pause], [], PAUSE_S
    for name, words in turns(script):
        voice = voices.get(name) or voices.setdefault(name, free.pop(0) if free else VOICES[len(voices) % len(VOICES)])
        samples = speakers.say(words, voice)
        rttm.append(f"SPEAKER {target.stem} 1 {t:.3f} {len(samples) / RATE:.3f} <NA> <NA> {name} <NA> <NA>")
        pieces += [samples, pause]
        t += len(samples) / RATE + PAUSE_S
    speakers.close()
    samples = np.concatenate(pieces)
    samples *= min(1.0, 0.95 / max(1e-6, float(np.abs(samples).max())))
    sf.write(target, samples, RATE, format="MP3", compression_level=0.9, bitrate_mode="CONSTANT")
    target.with_suffix(".rttm").write_text("\n".join(rttm) + "\n")
    for name, voice in voices.items():
        print(f"  {name}: {voice.describe()}")
    return len(samples) / RATE


if __name__ == "__main__":
    if len(sys.argv) > 1:
        script = Path(sys.argv[1])
        jobs = [(script, Path(sys.argv[2]) if len(sys.argv) > 2 else script.with_suffix(".mp3"))]
    else:
        jobs = [(HERE / f"{m}.txt", HERE / f"{m}.mp3") for m in ("launch_meeting", "clinic_meeting")]
    for script, target in jobs:
        seconds = render(script, target)
        print(f"{target}: {seconds:.1f} s of audio")
