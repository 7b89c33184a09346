"""Speaker diarization on Resemblyzer's GE2E voice encoder (an option: ``diarizer=voice-ge2e``).

``backend=resemblyzer`` loads the GE2E voice encoder that ships inside Resemblyzer's wheel (the
``voice-ge2e`` pack: a 3-layer LSTM giving 256-d unit voice embeddings, Apache-2.0, 17 MB) and
diarizes in four steps:

1. speech regions from Silero VAD (the ONNX model shipped with faster-whisper, taskdeck's
   speech-to-text: no extra download, and far fewer false alarms on noise and music than an
   energy threshold or WebRTC's VAD);
2. a voice embedding per window of 1.6 s (the encoder's training length) every ``step_s``
   inside each region, on a mel spectrogram computed as Resemblyzer's librosa call does;
3. agglomerative clustering of the windows (``clustering.py``): the number of speakers is
   estimated from a distance threshold, or fixed by ``speakers=``;
4. a speaker per 10 ms frame from the windows covering it, short runs absorbed, turns.

Resemblyzer itself is never imported (its import pulls librosa, and webrtcvad's import of
``pkg_resources`` fails on current setuptools): taskdeck reads its weights file with torch.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import DIARIZE, Backend, BackendParams, InputError, Turn, param
from taskdeck.helpers.cpu import available_cpus

from .ge2e_features import N_MELS, RATE, mel_spectrogram

WINDOW_S = 1.6  # the encoder's partial utterance: 160 frames
WINDOW_FRAMES = 160
HIDDEN = 256
LAYERS = 3


@dataclass
class DiarizerParams(BackendParams):
    name: str = "resemblyzer"
    step_s: float = param(0.4, "seconds between the starts of two 1.6 s voice windows", gt=0, le=WINDOW_S)
    threshold: float = param(
        0.35, "cosine distance under which groups of windows are one speaker (higher: fewer speakers)", gt=0, lt=2
    )
    max_speakers: int = param(20, "most speakers an estimate may find", ge=1)
    min_turn_s: float = param(0.5, "shortest turn; shorter runs go to a neighbouring speaker", ge=0)
    max_pause_s: float = param(1.0, "pauses up to this long inside one speaker's speech stay in the turn", ge=0)
    vad_threshold: float = param(0.5, "Silero VAD speech probability above which a frame is speech", gt=0, lt=1)
    chunk_s: float = param(600.0, "longest piece of audio decoded at once, in seconds", ge=10)


class VoiceDiarizer(Backend):
    name = "resemblyzer"
    description = "speaker diarization: Silero VAD + Resemblyzer's GE2E voice encoder + clustering, on CPU"
    Params = DiarizerParams
    formats = ("ge2e",)
    all_capabilities = (DIARIZE,)
    extra = "voice-ge2e"
    priority = 10

    @classmethod
    def missing_package(cls) -> Optional[str]:
        for module, package in (("torch", "torch"), ("scipy", "scipy"), ("faster_whisper", "faster-whisper")):
            if importlib.util.find_spec(module) is None:
                return package
        return None

    def load(self) -> None:
        import torch

        torch.set_num_threads(self.params.threads or available_cpus())
        state = torch.load(str(self.model.path()), map_location="cpu", weights_only=True)["model_state"]
        lstm = torch.nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
        linear = torch.nn.Linear(HIDDEN, HIDDEN)
        lstm.load_state_dict({k[len("lstm.") :]: v for k, v in state.items() if k.startswith("lstm.")})
        linear.load_state_dict({k[len("linear.") :]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm, self.linear = lstm.eval(), linear.eval()
        self.loaded = True

    def unload(self) -> None:
        self.__dict__.pop("lstm", None)
        self.__dict__.pop("linear", None)
        self.loaded = False

    # ---- embeddings ----
    def embed_mels(self, mels: Any) -> Any:
        """Unit voice embeddings, ``(n, 256)``, of mel windows ``(n, 160, 40)``."""
        import numpy as np
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(mels), 256):
                batch = torch.from_numpy(np.ascontiguousarray(mels[i : i + 256], dtype=np.float32))
                _, (hidden, _) = self.lstm(batch)
                raw = torch.relu(self.linear(hidden[-1]))
                out.append((raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-9)).numpy())
        return np.concatenate(out) if out else np.zeros((0, HIDDEN), dtype=np.float32)

    def embed_utterance(self, samples: Any, rate: float = 1.3, min_coverage: float = 0.75) -> Any:
        """One embedding of a whole utterance, as ``resemblyzer.VoiceEncoder.embed_utterance``
        computes it (partials of 1.6 s at ``rate`` per second, averaged)."""
        import numpy as np

        samples = np.asarray(samples, dtype=np.float32)
        hop = RATE // 100
        n_frames = int(np.ceil((len(samples) + 1) / hop))
        step = int(np.round((RATE / rate) / hop))
        starts = list(range(0, max(1, n_frames - WINDOW_FRAMES + step + 1), step))
        last = starts[-1] * hop
        if len(starts) > 1 and (len(samples) - last) / (WINDOW_FRAMES * hop) < min_coverage:
            starts = starts[:-1]
        need = (starts[-1] + WINDOW_FRAMES) * hop
        padded = np.pad(samples, (0, max(0, need - len(samples))))
        mel = mel_spectrogram(padded)
        partials = self.embed_mels(np.stack([mel[s : s + WINDOW_FRAMES] for s in starts]))
        mean = partials.mean(axis=0)
        return mean / np.linalg.norm(mean)

    # ---- diarization ----
    def diarize(
        self, audio: Any, *, speakers: Optional[int] = None, progress: Optional[Callable[[float], None]] = None
    ) -> list[Turn]:
        import numpy as np

        from .ge2e_clustering import centroids, cluster, frame_labels, turns_from_frames  # a run's, not a listing's

        if speakers is not None and speakers < 1:
            raise InputError(f"speakers={speakers}: give the number of speakers (1 or more), or leave it unset")
        p = self.params
        spans: list[tuple[float, float]] = []
        regions: list[tuple[float, float]] = []
        vectors = []
        duration = 0.0
        for piece in _pieces(audio, p.chunk_s):
            found = speech_regions(piece.samples, p.vad_threshold)
            mels, piece_spans = _windows(piece.samples, found, p.step_s)
            if len(mels):
                vectors.append(self.embed_mels(mels))
            spans += [(a + piece.offset, b + piece.offset) for a, b in piece_spans]
            regions += [(a + piece.offset, b + piece.offset) for a, b in found]
            duration = piece.offset + piece.duration
            if progress:
                progress(duration)
        if not vectors:
            return []
        embeddings = np.concatenate(vectors)
        labels = cluster(embeddings, speakers=speakers, threshold=p.threshold, max_speakers=p.max_speakers)
        frames = frame_labels(spans, embeddings, centroids(embeddings, labels), regions, duration, p.min_turn_s)
        order: dict[int, str] = {}
        turns: list[Turn] = []
        for start, end, k in turns_from_frames(frames):
            who = order.setdefault(k, f"S{len(order) + 1}")
            if turns and turns[-1].speaker == who and start - turns[-1].end <= p.max_pause_s:
                turns[-1] = Turn(turns[-1].start, end, who)
            else:
                turns.append(Turn(start, end, who))
        return turns


def speech_regions(samples: Any, threshold: float = 0.5) -> list[tuple[float, float]]:
    """(start_s, end_s) of speech in 16 kHz ``samples``, by faster-whisper's Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_speech_duration_ms=200, min_silence_duration_ms=250, speech_pad_ms=30)
    return [(r["start"] / RATE, r["end"] / RATE) for r in get_speech_timestamps(samples, options)]


def _pieces(audio: Any, chunk_s: float) -> Iterator[Any]:
    from taskdeck.helpers.audio import Waveform, stream_audio

    if isinstance(audio, Waveform):
        yield audio
    else:
        yield from stream_audio(str(audio), chunk_s=chunk_s)


def _windows(samples: Any, regions: list[tuple[float, float]], step_s: float) -> tuple[Any, list[tuple[float, float]]]:
    """Mel windows ``(n, 160, 40)`` inside the speech regions and the (start, end) seconds of
    speech each covers; a region shorter than a window gets one, zero-padded."""
    import numpy as np

    size = int(WINDOW_S * RATE)
    mels, spans = [], []
    for a, b in regions:
        if b - a <= WINDOW_S:
            starts = [a]
        else:
            starts = list(np.arange(a, b - WINDOW_S + 1e-6, step_s))
            if b - WINDOW_S - starts[-1] > step_s / 2:
                starts.append(b - WINDOW_S)
        for s in starts:
            i = int(round(s * RATE))
            j = min(i + size, int(round(b * RATE)))
            chunk = np.pad(samples[i:j], (0, size - (j - i)))
            mels.append(mel_spectrogram(chunk)[:WINDOW_FRAMES])
            spans.append((float(s), j / RATE))
    return (np.stack(mels) if mels else np.zeros((0, WINDOW_FRAMES, N_MELS), dtype=np.float32)), spans
