"""Piper backend (``piper-tts``): fast local neural voices (VITS exported to ONNX).

Loads a Piper voice: the embedded ``piper-joe`` pack, or any ``voice.onnx`` beside its
``voice.onnx.json``. ``speak`` synthesises sentence by sentence (Piper's espeak-ng
phonemizer splits the text), joins the sentences with ``sentence_silence`` seconds of
silence, and returns float32 samples at the voice's own rate. ``length_scale`` sets the pace,
``noise_scale``/``noise_w_scale`` the variation, ``speaker`` picks a voice of a
multi-speaker model by id or name.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import SPEAK, Audio, Backend, BackendParams, ConfigError, InputError, hookimpl, param


@dataclass
class PiperParams(BackendParams):
    name: str = "piper"
    noise_scale: Optional[float] = param(None, "generator noise (the voice's default when None)", ge=0)
    noise_w_scale: Optional[float] = param(None, "phoneme width noise (the voice's default when None)", ge=0)
    volume: float = param(1.0, "sample multiplier", ge=0)


class PiperBackend(Backend):
    name = "piper"
    description = "Piper: fast local ONNX voices (espeak-ng phonemes); the default text-to-speech"
    Params = PiperParams
    formats = ("piper",)
    all_capabilities = (SPEAK,)
    extra = "tts"
    priority = 10

    @classmethod
    def missing_package(cls) -> Optional[str]:
        return None if importlib.util.find_spec("piper") else "piper-tts"

    def load(self) -> None:
        import onnxruntime
        from piper import PiperVoice

        path = self.model.path()
        voice = PiperVoice.load(str(path), use_cuda=str(self.params.device).startswith("cuda"))
        if self.params.threads:  # Piper's own session uses every core
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.params.threads
            options.inter_op_num_threads = 1
            voice.session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=voice.session.get_providers()
            )
        self.voice = voice
        self.loaded = True

    def unload(self) -> None:
        self.__dict__.pop("voice", None)
        self.loaded = False

    @property
    def sample_rate(self) -> int:
        return int(self.voice.config.sample_rate)

    def speaker_id(self, speaker: Any) -> Optional[int]:
        if speaker is None or speaker == "":
            return None
        config = self.voice.config
        names = dict(config.speaker_id_map or {})
        if str(speaker) in names:
            return int(names[str(speaker)])
        if str(speaker).isdigit() and int(speaker) < max(1, config.num_speakers):
            return int(speaker) if config.num_speakers > 1 else None
        choices = ", ".join(list(names)[:12]) or ("0" if config.num_speakers <= 1 else f"0..{config.num_speakers - 1}")
        raise ConfigError(f"voice '{self.model.ref}' has no speaker '{speaker}'; speakers: {choices}")

    def speak(
        self,
        text: str,
        *,
        length_scale: float = 1.0,
        sentence_silence: float = 0.25,
        speaker: Any = None,
        **_options: Any,
    ) -> Audio:
        import numpy as np
        from piper import SynthesisConfig

        if not str(text).strip():
            raise InputError("text is empty: give the words to speak")
        if not length_scale or length_scale <= 0:
            raise ConfigError(f"length_scale={length_scale}: give a positive number (1 = normal pace)")
        p = self.params
        config = SynthesisConfig(
            speaker_id=self.speaker_id(speaker),
            length_scale=length_scale,
            noise_scale=p.noise_scale,
            noise_w_scale=p.noise_w_scale,
            volume=p.volume,
        )
        gap = np.zeros(int(max(0.0, sentence_silence) * self.sample_rate), dtype=np.float32)
        pieces: list[Any] = []
        for chunk in self.voice.synthesize(str(text), syn_config=config):
            if pieces and len(gap):
                pieces.append(gap)
            pieces.append(np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1))
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        return Audio(
            samples=samples,
            sample_rate=self.sample_rate,
            text=str(text),
            method=f"piper {self.model.ref} (length_scale {length_scale})",
        )


@hookimpl
def register_backends(register):
    register(PiperBackend)
