"""Speech to text, text to speech and images through an OpenAI-compatible API.

- ``/audio/transcriptions`` (``/audio/translations`` to translate into English): asks for
  ``verbose_json`` (segments, and words when asked for) and falls back to plain ``json`` on a
  model that does not offer it (gpt-4o-transcribe). Audio over the API's 25 MB upload limit
  is decoded and sent in pieces cut at quiet moments, their timestamps shifted back.
- ``/audio/speech``: asks for WAV and returns float32 samples.
- ``/images/generations``: asks for base64 PNGs.
"""

from __future__ import annotations

import base64
import io
import struct
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Optional

from taskdeck import Audio, Images, InputError, Segment, Transcript, Word

from .faults import api_errors

if TYPE_CHECKING:
    from . import OpenAIBackend

UPLOAD_LIMIT = 25 * 1024 * 1024  # bytes the API accepts per audio file
PIECE_SECONDS = 600.0  # 16 kHz 16-bit mono WAV: ~19 MB per piece
RATE = 16000


# ---- speech to text ----
def transcribe(
    backend: OpenAIBackend,
    audio: Any,
    *,
    language: Optional[str] = None,
    translate: bool = False,
    word_timestamps: bool = False,
    progress: Optional[Callable[[float], None]] = None,
    prompt: Optional[str] = None,
    **_options: Any,
) -> Transcript:
    """``audio`` is a file path or a waveform (``.samples``/``.sample_rate``, or 16 kHz samples)."""
    import time

    source = str(audio) if isinstance(audio, (str, bytes)) or hasattr(audio, "__fspath__") else ""
    segments: list[Segment] = []
    texts: list[str] = []
    detected, duration = "", 0.0
    for name, payload, offset in upload_pieces(audio):
        start = time.perf_counter()
        answer = _transcribe_piece(backend, name, payload, language, translate, word_timestamps, prompt)
        backend.count(time.perf_counter() - start)
        texts.append((getattr(answer, "text", None) or str(answer)).strip())
        detected = detected or getattr(answer, "language", "") or ""
        piece_segments = _segments(answer, offset, word_timestamps)
        segments += piece_segments
        end = offset + float(
            getattr(answer, "duration", 0.0) or (piece_segments[-1].end - offset if piece_segments else 0.0)
        )
        duration = max(duration, end)
        if progress is not None:
            progress(duration)
    return Transcript(
        text=" ".join(t for t in texts if t),
        segments=segments,
        language=detected,
        duration=round(duration, 3),
        source=source,
        method=f"{'translation' if translate else 'transcription'} by {backend.model.ref} at {backend.base_url}",
    )


def _transcribe_piece(backend, name, payload, language, translate, word_timestamps, prompt):
    """One API call, verbose_json first; the plain format where the model has no verbose one."""
    import openai

    api = backend.client.audio.translations if translate else backend.client.audio.transcriptions
    endpoint = "/audio/translations" if translate else "/audio/transcriptions"
    request: dict[str, Any] = {"model": backend.model.ref, "response_format": "verbose_json"}
    if not translate:
        request["timestamp_granularities"] = ["segment", "word"] if word_timestamps else ["segment"]
        if language:
            request["language"] = language
    if prompt:
        request["prompt"] = prompt
    if backend.verbose_rejected:
        request = _plain(request)
    with api_errors(backend, endpoint), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the client marks /audio/translations so
        try:
            return api.create(file=(name, payload), **request)
        except openai.BadRequestError as exc:
            if "response_format" not in str(exc) and "timestamp" not in str(exc):
                raise
        backend.verbose_rejected = True
        print(
            f"note: {backend.model.ref} gives no segments (no verbose_json); the transcript has no timestamps",
            file=sys.stderr,
        )
        return api.create(file=(name, payload), **_plain(request))


def _plain(request: dict) -> dict:
    return {**{k: v for k, v in request.items() if k != "timestamp_granularities"}, "response_format": "json"}


def _segments(answer: Any, offset: float, word_timestamps: bool) -> list[Segment]:
    """Timed segments of one verbose answer (words placed in their segment), shifted by ``offset``."""
    words = (
        [
            Word(start=offset + float(w.start), end=offset + float(w.end), word=w.word)
            for w in (getattr(answer, "words", None) or [])
        ]
        if word_timestamps
        else []
    )
    segments = [
        Segment(start=offset + float(s.start), end=offset + float(s.end), text=s.text)
        for s in (getattr(answer, "segments", None) or [])
    ]
    for seg in segments:
        seg.words = [w for w in words if seg.start <= (w.start + w.end) / 2 <= seg.end]
    if words and not segments:  # words only: one segment holding them
        text = getattr(answer, "text", "") or ""
        segments = [Segment(start=words[0].start, end=words[-1].end, text=text, words=words)]
    return segments


def upload_pieces(audio: Any, limit: int = UPLOAD_LIMIT) -> Iterator[tuple[str, Any, float]]:
    """``(file name, bytes or open file, offset in seconds)`` for each upload: a file under
    ``limit`` as it is, anything else as 16 kHz WAV pieces cut at quiet moments."""
    from pathlib import Path

    if isinstance(audio, (str, Path)):
        path = Path(audio).expanduser()
        if not path.is_file():
            raise InputError(f"audio file '{audio}' does not exist")
        if path.stat().st_size <= limit:
            yield path.name, path.read_bytes(), 0.0
            return
        samples, name = decode(path), path.stem
    else:
        samples, name = waveform_samples(audio), "audio"
    seconds = max(1.0, min(PIECE_SECONDS, (limit - 1024) / (2 * RATE)))
    for n, (start, end) in enumerate(split_points(samples, int(seconds * RATE))):
        yield f"{name}-{n + 1}.wav", wav_bytes(samples[start:end], RATE), start / RATE


def split_points(samples, most: int) -> list[tuple[int, int]]:
    """Cut ``samples`` into spans of at most ``most`` samples, each cut at a quiet moment
    before the limit (:func:`taskdeck.helpers.audio.quiet_cut`)."""
    from taskdeck.helpers.audio import quiet_cut

    spans, start, total = [], 0, len(samples)
    while total - start > most:
        cut = start + quiet_cut(samples[start : start + most], most, RATE)
        spans.append((start, cut))
        start = cut
    spans.append((start, total))
    return spans


def decode(path) -> Any:
    """A file's audio as 16 kHz mono float32 (taskdeck.helpers.audio: soundfile, soxr, ffmpeg)."""
    from taskdeck.helpers.audio import load_audio

    return load_audio(path, RATE).samples


def waveform_samples(audio: Any) -> Any:
    """16 kHz mono float32 samples from a waveform object or an array of 16 kHz samples."""
    import numpy as np

    samples = np.asarray(getattr(audio, "samples", audio), dtype=np.float32)
    rate = int(getattr(audio, "sample_rate", RATE))
    if samples.ndim > 1:
        samples = samples.mean(axis=-1 if samples.shape[-1] <= 8 else 0)
    if rate != RATE:
        import soxr

        samples = soxr.resample(samples, rate, RATE).astype(np.float32)
    return samples


def wav_bytes(samples, rate: int) -> bytes:
    """16-bit PCM mono WAV of float samples in -1..1."""
    import wave

    import numpy as np

    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


def wav_samples(data: bytes) -> tuple[Any, int]:
    """(mono float32 samples, sample rate) of WAV bytes; other formats through soundfile."""
    import wave

    import numpy as np

    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        try:
            import soundfile

            samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except Exception as exc:  # not audio soundfile knows either
            raise InputError(
                f"the server's speech is not audio taskdeck can read ({type(exc).__name__}); "
                "use a server that answers response_format=wav"
            ) from None
        return samples.mean(axis=1).astype(np.float32), int(rate)
    if width not in (1, 2, 4):
        raise InputError(f"the server's WAV has {8 * width}-bit samples, which taskdeck does not read")
    dtype, scale, zero = {1: ("u1", 128.0, 128.0), 2: ("<i2", 32768.0, 0.0), 4: ("<i4", 2147483648.0, 0.0)}[width]
    samples = (
        np.frombuffer(frames[: len(frames) // (width * channels) * width * channels], dtype=dtype).astype(np.float32)
        - zero
    ) / scale
    return samples.reshape(-1, channels).mean(axis=1).astype(np.float32), rate


# ---- text to speech ----
def speak(
    backend: OpenAIBackend,
    text: str,
    *,
    voice: Optional[str] = None,
    speed: Optional[float] = None,
    instructions: Optional[str] = None,
    **_options: Any,
) -> Audio:
    import time

    if not text.strip():
        raise InputError("nothing to say: the text is empty")
    request: dict[str, Any] = {
        "model": backend.model.ref,
        "voice": voice or backend.params.voice,
        "input": text,
        "response_format": "wav",
    }
    if speed is not None:
        request["speed"] = speed
    if instructions:
        request["instructions"] = instructions
    start = time.perf_counter()
    with api_errors(backend, "/audio/speech"):
        data = backend.client.audio.speech.create(**request).content
    backend.count(time.perf_counter() - start)
    samples, rate = wav_samples(data)
    return Audio(
        samples=samples,
        sample_rate=rate,
        text=text,
        method=f"speech by {backend.model.ref} ({request['voice']}) at {backend.base_url}",
    )


# ---- text to image ----
def draw(
    backend: OpenAIBackend,
    prompt: str,
    *,
    num_images: int = 1,
    width: Optional[int] = None,
    height: Optional[int] = None,
    **_options: Any,
) -> Images:
    """PNG images for ``prompt``; options the API has no use for (steps, guidance) are ignored."""
    import time

    size = f"{width}x{height}" if width and height else backend.params.image_size
    request: dict[str, Any] = {"model": backend.model.ref, "prompt": prompt, "n": int(num_images), "size": size}
    if not backend.model.ref.startswith("gpt-image"):  # those always answer base64 and reject the option
        request["response_format"] = "b64_json"
    start = time.perf_counter()
    with api_errors(backend, "/images/generations"):
        answer = backend.client.images.generate(**request)
    backend.count(time.perf_counter() - start)
    images = [as_png(_image_bytes(item, backend.params.timeout)) for item in (answer.data or [])]
    if not images:
        raise InputError(f"the server at {backend.base_url} returned no image for the prompt")
    w, h = png_size(images[0])
    return Images(
        prompt=prompt, images=images, width=w, height=h, method=f"image by {backend.model.ref} at {backend.base_url}"
    )


def _image_bytes(item: Any, timeout: float) -> bytes:
    if getattr(item, "b64_json", None):
        return base64.b64decode(item.b64_json)
    if getattr(item, "url", None):  # a server that ignored response_format
        import urllib.request

        with urllib.request.urlopen(item.url, timeout=timeout) as resp:
            return resp.read()
    raise InputError("the server's image answer holds neither b64_json nor url")


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def as_png(data: bytes) -> bytes:
    """PNG bytes (a JPEG/WebP answer converted with Pillow)."""
    if data.startswith(PNG_MAGIC):
        return data
    try:
        from PIL import Image
    except ImportError:
        raise InputError("the server answered a non-PNG image: pip install pillow to convert it") from None
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, format="PNG")
    return out.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
