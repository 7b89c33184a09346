"""``output=wav`` (audio results, at their own sample rate) and ``output=png`` (images, and
detections drawn on their image)."""

from taskdeck import Formatter, hookimpl
from taskdeck.io import atomic_write_bytes


def wav_bytes(samples, sample_rate: int) -> bytes:
    """16-bit PCM mono WAV of float samples in -1..1 (clipped)."""
    import io
    import wave

    import numpy as np

    pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


class WavFormatter(Formatter):
    name = "wav"
    description = "write <task>.wav (16-bit PCM, the audio's own sample rate)"
    extension = "wav"
    kinds = ("audio",)

    def write(self, result, run_dir, stem, stream):
        return atomic_write_bytes(run_dir / f"{stem}.wav", wav_bytes(result.samples, result.sample_rate))


class PngFormatter(Formatter):
    name = "png"
    description = "write <task>.png (several images: <task>-1.png, <task>-2.png, ...; detections: the boxes drawn)"
    extension = "png"
    kinds = ("images", "detections")

    def write(self, result, run_dir, stem, stream):
        if len(result.images) == 1:
            return atomic_write_bytes(run_dir / f"{stem}.png", result.images[0])
        written = [atomic_write_bytes(run_dir / f"{stem}-{i}.png", data) for i, data in enumerate(result.images, 1)]
        return written[0] if written else None


@hookimpl
def register_formatters(register):
    register(WavFormatter())
    register(PngFormatter())
