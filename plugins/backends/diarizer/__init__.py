"""Speaker diarization backends: who spoke when, offline, on CPU.

- ``backend=diarizer`` (the default, pack ``diarizer-campplus``): pyannote's segmentation-3.0
  and 3D-Speaker's CAM++ as ONNX graphs on onnxruntime, no torch (:mod:`.pipeline`); it also
  offers ``voiceprint`` (a CAM++ embedding per speaker, for known voices).
- ``backend=resemblyzer`` (pack ``voice-ge2e``, the ``voice-ge2e`` extra with torch):
  Resemblyzer's GE2E encoder over Silero VAD windows (:mod:`.ge2e`), the earlier default.
"""

from __future__ import annotations

import importlib.util
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Optional

from taskdeck import DIARIZE, Backend, BackendParams, InputError, Turn, hookimpl, param
from taskdeck.helpers.cpu import available_cpus
from taskdeck.helpers.voices import VOICEPRINT, Voiceprint

from .ge2e import VoiceDiarizer


@dataclass
class SpeakerDiarizerParams(BackendParams):
    name: str = "diarizer"
    step_s: float = param(1.0, "seconds between the starts of two 10 s segmentation windows", ge=0.1, le=10)
    onset: float = param(0.5, "probability above which a local speaker talks in a frame", gt=0, lt=1)
    threshold: float = param(
        0.3, "cosine distance under which groups of voices are one speaker (higher: fewer speakers)", gt=0, lt=2
    )
    min_embed_s: float = param(2.0, "seconds a voice must be heard alone in a window to shape the speakers", ge=0)
    max_speakers: int = param(20, "most speakers an estimate may find", ge=1)
    min_gap_s: float = param(0.0, "pauses shorter than this inside one speaker's speech stay in the turn", ge=0)
    min_turn_s: float = param(0.0, "turns shorter than this are dropped", ge=0)


class SpeakerDiarizer(Backend):
    name = "diarizer"
    description = "speaker diarization: pyannote segmentation-3.0 + CAM++ embeddings + clustering, ONNX on CPU"
    Params = SpeakerDiarizerParams
    formats = ("speaker-onnx",)
    all_capabilities = (DIARIZE, VOICEPRINT)
    extra = "diarize"
    priority = 10

    @classmethod
    def missing_package(cls) -> Optional[str]:
        for module, package in (("onnxruntime", "onnxruntime"), ("onnx", "onnx"), ("scipy", "scipy")):
            if importlib.util.find_spec(module) is None:
                return package
        return None

    def load(self) -> None:
        import numpy as np
        import onnxruntime as ort

        from .pipeline import Models

        folder = self.model.path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.params.threads or available_cpus()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3

        def session(name: str) -> Any:
            return ort.InferenceSession(str(folder / name), options, providers=["CPUExecutionProvider"])

        with np.load(folder / "campplus_dense.npz") as dense:
            self.models = Models(session("segmentation.onnx"), session("campplus.onnx"), dict(dense))
        self.loaded = True

    def unload(self) -> None:
        self.__dict__.pop("models", None)
        self.__dict__.pop("_last", None)
        self.loaded = False

    def diarize(
        self, audio: Any, *, speakers: Optional[int] = None, progress: Optional[Callable[[float], None]] = None
    ) -> list[Turn]:
        from taskdeck.helpers.audio import Waveform, load_audio

        from .pipeline import Settings, campplus_frames, diarize_samples

        if speakers is not None and speakers < 1:
            raise InputError(f"speakers={speakers}: give the number of speakers (1 or more), or leave it unset")
        waveform = audio if isinstance(audio, Waveform) else load_audio(str(audio))
        knobs = {f.name: getattr(self.params, f.name) for f in fields(Settings) if hasattr(self.params, f.name)}
        settings = Settings(**knobs)  # the params that are the pipeline's knobs
        samples = waveform.samples
        computed: list = []  # CAM++'s features, when the recording has speech

        def frames() -> tuple[Any, Any]:
            computed.append(campplus_frames(self.models, samples, settings.embed_chunk_s))
            return computed[0]

        found = diarize_samples(self.models, samples, settings, speakers=speakers, progress=progress, frames=frames)
        if progress:
            progress(waveform.duration)
        turns = [Turn(start, end, f"S{k + 1}") for start, end, k in found]
        if computed:  # the voiceprints too, from the same features: asked for next, they cost no second pass
            features, times = computed[0]
            self._last = (weakref.ref(samples), tuple(turns), self._voiceprints(features, times, turns))
        return turns

    def voiceprints(self, audio: Any, turns: Sequence[Turn]) -> dict[str, Voiceprint]:
        from taskdeck.helpers.audio import Waveform, load_audio

        from .pipeline import Settings, campplus_frames

        waveform = audio if isinstance(audio, Waveform) else load_audio(str(audio))
        last = getattr(self, "_last", None)
        if last is not None and last[0]() is waveform.samples and last[1] == tuple(turns):
            return dict(last[2])
        features, times = campplus_frames(self.models, waveform.samples, Settings.embed_chunk_s)
        return self._voiceprints(features, times, turns)

    def _voiceprints(self, features: Any, times: Any, turns: Sequence[Turn]) -> dict[str, Voiceprint]:
        from .pipeline import voiceprints

        found = voiceprints(features, times, self.models.dense, [(t.start, t.end, t.speaker) for t in turns])
        return {label: Voiceprint(vector.tolist(), seconds) for label, (vector, seconds) in found.items()}


@hookimpl
def register_backends(register):
    register(SpeakerDiarizer)
    register(VoiceDiarizer)
