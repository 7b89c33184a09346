"""Audio input: any recording as 16 kHz mono float32, whole or in bounded chunks.

soundfile (libsndfile: wav, flac, ogg/opus, mp3) decodes, soxr resamples, channels are mixed
down. Containers libsndfile cannot read (m4a, mp4, aac, webm, ...) go through ``ffmpeg``:
the one on ``PATH``, else the binary of ``imageio-ffmpeg`` (``pip install taskdeck[ffmpeg]``).
Long recordings are read block by block: :func:`stream_audio` yields
pieces of at most ``chunk_s`` seconds cut at the quietest moment before the limit, so an
hour-long file never sits in memory and no word is cut in two. Every failure is one
:class:`InputError` line naming the file and what to do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from taskdeck.errors import InputError

RATE = 16000
#: Containers soundfile cannot open; decoded with ffmpeg.
FFMPEG_ONLY = {".m4a", ".mp4", ".aac", ".webm", ".mov", ".mkv", ".wma", ".amr", ".3gp", ".m4b"}
SILENCE_PEAK = 1e-4  # below this peak amplitude (-80 dBFS) a recording holds no sound
BLOCK_S = 30.0  # seconds decoded per read
CUT_WINDOW_S = 0.1  # a cut lands in the middle of the quietest window of this length ...
CUT_SEARCH_S = 15.0  # ... within this many seconds before the chunk limit


@dataclass
class Waveform:
    """Mono float32 samples in -1..1; ``offset`` is where they start in the source (seconds)."""

    samples: Any
    sample_rate: int = RATE
    source: str = ""
    offset: float = 0.0

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0

    @property
    def peak(self) -> float:
        import numpy as np

        return float(np.abs(self.samples).max()) if len(self.samples) else 0.0

    def is_silent(self) -> bool:
        return self.peak < SILENCE_PEAK


def load_audio(path: Any, sample_rate: int = RATE) -> Waveform:
    """The whole file as one waveform (for short files; see :func:`stream_audio`)."""
    import numpy as np

    pieces = [w.samples for w in _decoded_blocks(path, sample_rate)]
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return Waveform(samples, sample_rate, str(path))


def stream_audio(path: Any, chunk_s: float = 600.0, sample_rate: int = RATE) -> Iterator[Waveform]:
    """The file in pieces of at most ``chunk_s`` seconds, each cut at a quiet moment, with
    its ``offset``; memory stays bounded by one piece."""
    import numpy as np

    most = int(chunk_s * sample_rate)
    buffer = np.zeros(0, dtype=np.float32)
    start = 0  # samples of the source before the buffer
    for block in _decoded_blocks(path, sample_rate):
        buffer = np.concatenate([buffer, block.samples])
        while len(buffer) > most:
            cut = quiet_cut(buffer, most, sample_rate)
            yield Waveform(buffer[:cut].copy(), sample_rate, str(path), start / sample_rate)
            buffer, start = buffer[cut:], start + cut
    if len(buffer) or start == 0:
        yield Waveform(buffer, sample_rate, str(path), start / sample_rate)


def quiet_cut(samples: Any, most: int, sample_rate: int = RATE) -> int:
    """Where to cut ``samples`` at or before ``most``: the middle of the quietest short window
    in the last seconds before it."""
    import numpy as np

    window = max(1, int(CUT_WINDOW_S * sample_rate))
    lo, hi = max(0, most - int(CUT_SEARCH_S * sample_rate)), most
    n = (hi - lo) // window
    if n < 1:
        return most
    frames = np.asarray(samples[lo : lo + n * window], dtype=np.float64).reshape(n, window)
    return lo + int(np.argmin((frames**2).mean(axis=1))) * window + window // 2


def audio_duration(path: Any) -> Optional[float]:
    """Seconds of audio in the file from its header (None when the header does not say)."""
    file = _checked(path)
    if file.suffix.lower() not in FFMPEG_ONLY:
        try:
            import soundfile

            info = soundfile.info(str(file))
            return info.frames / info.samplerate if info.frames > 0 and info.samplerate else None
        except Exception:  # noqa: BLE001 - decoding will say what is wrong
            return None
    if shutil.which("ffprobe"):
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(file)],
            capture_output=True,
            text=True,
        )
        try:
            return float(out.stdout.strip())
        except ValueError:
            return None
    return None


def check_sound(path: Any, peak: float) -> None:
    """One line when a whole recording is silent."""
    if peak < SILENCE_PEAK:
        raise InputError(
            f"audio file '{path}' is silent (no sound above -80 dBFS): check the recording and its input level"
        )


# ---- decoding ----
@contextlib.contextmanager
def muted_c_stderr():
    """Silence what C libraries print on file descriptor 2 (libmpg123's "Note: Illegal
    Audio-MPEG-Header ..." on a damaged file); the failure itself becomes one line."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real file descriptor (e.g. captured)
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def ffmpeg_exe() -> Optional[str]:
    """ffmpeg on PATH, else imageio-ffmpeg's bundled binary, else None."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - not installed, or no binary for this platform
        return None


def _checked(path: Any) -> Path:
    file = Path(str(path)).expanduser()
    if not file.is_file():
        raise InputError(f"audio file '{path}' does not exist")
    if file.stat().st_size == 0:
        raise InputError(f"audio file '{path}' is empty (0 bytes)")
    return file


def _decoded_blocks(path: Any, sample_rate: int) -> Iterator[Waveform]:
    file = _checked(path)
    if file.suffix.lower() in FFMPEG_ONLY:
        yield from _ffmpeg_blocks(file, path, sample_rate)
        return
    import soundfile

    try:
        with muted_c_stderr():
            handle = soundfile.SoundFile(str(file))
    except Exception as exc:  # noqa: BLE001 - libsndfile's own words, on one line
        if ffmpeg_exe():  # a format libsndfile lacks but ffmpeg may know
            yield from _ffmpeg_blocks(file, path, sample_rate)
            return
        reason = str(exc).splitlines()[-1].split(": ", 1)[-1][:120]
        raise InputError(
            f"audio file '{path}' cannot be decoded ({reason}): give a wav, flac, ogg or mp3 "
            f"recording, or install ffmpeg for other formats"
        ) from None
    with handle:
        yield from _soundfile_blocks(handle, path, sample_rate)


def _soundfile_blocks(handle: Any, path: Any, sample_rate: int) -> Iterator[Waveform]:
    import numpy as np
    import soxr

    rate = handle.samplerate
    resampler = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32") if rate != sample_rate else None
    # Whole MP3 frames per read (1152 samples; 576 below 32 kHz): a read that ends inside a
    # frame makes libmpg123 drop a frame and print an error.
    frames = max(1152, int(BLOCK_S * rate) // 1152 * 1152)
    remaining = handle.frames if handle.frames > 0 else None  # never read past the end (mpg123 complains)
    got_any = False
    while True:
        want = frames if remaining is None else min(frames, remaining)
        try:
            with muted_c_stderr():
                data = handle.read(want, dtype="float32", always_2d=True) if want else handle.read(0, always_2d=True)
        except Exception as exc:  # noqa: BLE001 - a file broken midway
            if got_any:
                break  # keep what decoded, as players do with a truncated file
            raise InputError(
                f"audio file '{path}' cannot be decoded ({str(exc).splitlines()[-1][:120]}): "
                f"is it a complete audio file?"
            ) from None
        if remaining is not None:
            remaining -= len(data)
        last = len(data) < want or remaining == 0
        mono = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
        if resampler is not None:
            mono = resampler.resample_chunk(mono, last=last)
        if len(mono):
            got_any = True
            yield Waveform(mono, sample_rate, str(path))
        if last:
            break
    if not got_any:
        raise InputError(f"audio file '{path}' holds no audio samples")


def _ffmpeg_blocks(file: Path, path: Any, sample_rate: int) -> Iterator[Waveform]:
    import numpy as np

    ffmpeg = ffmpeg_exe()
    if ffmpeg is None:
        raise InputError(
            f"audio file '{path}' ({file.suffix}) needs ffmpeg to decode: install it "
            f"(pip install imageio-ffmpeg, or apt/brew install ffmpeg) or convert the file "
            f"to wav/flac/mp3"
        )
    proc = subprocess.Popen(
        [ffmpeg, "-nostdin", "-v", "error", "-i", str(file), "-f", "f32le", "-ac", "1", "-ar", str(sample_rate), "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    block = int(BLOCK_S * sample_rate) * 4
    got_any = False
    try:
        while True:
            data = proc.stdout.read(block)
            if not data:
                break
            data = data[: len(data) // 4 * 4]
            got_any = True
            yield Waveform(np.frombuffer(data, dtype=np.float32).copy(), sample_rate, str(path))
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        proc.stderr.close()
        code = proc.wait()
    if code != 0 and not got_any:
        reason = err.splitlines()[-1][:120] if err else f"ffmpeg exit code {code}"
        raise InputError(f"audio file '{path}' cannot be decoded ({reason}): is it an audio or video file?")
    if not got_any:
        raise InputError(f"audio file '{path}' holds no audio samples")
