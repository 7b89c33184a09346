"""``task=tts``: text to speech, written as a WAV at the voice's own sample rate.

The default voice is the embedded Piper ``piper-joe`` (en_US, 22 kHz, ONNX on CPU);
``length_scale`` sets the pace (above 1 is slower). Long text is spoken sentence by sentence
with a short pause between sentences. ``backend=transformers`` runs text-to-speech models
(VITS/MMS-TTS, Bark, SpeechT5 with ``speaker_embeddings=``), ``backend=openai`` an API's
``/v1/audio/speech``. ``result.json`` records the duration and sample rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from taskdeck import SPEAK, InputError, Task, hookimpl, param, required

DEFAULT_MODEL = "piper-joe"


class TtsTask(Task):
    name = "tts"
    aliases = ("text-to-speech", "text-to-audio")  # transformers' pipeline names
    description = "text to speech: a WAV file (Piper voices, transformers TTS models, OpenAI API)"
    outputs = ("text", "json", "wav")
    form_hints = {"speaker_embeddings": "file:.npy,.pt"}

    @dataclass
    class Params:
        text: str = required("the text to speak")
        model: str = param(
            DEFAULT_MODEL,
            "piper-joe (embedded Piper voice), a Piper .onnx voice, a "
            "transformers TTS model (backend=transformers) or an API model",
        )
        length_scale: float = param(1.0, "pace: above 1 speaks slower, below 1 faster (Piper, VITS)", gt=0)
        sentence_silence: float = param(0.25, "seconds of silence between sentences", ge=0)
        speaker: Optional[str] = param(None, "speaker id or name (multi-speaker voices), or the API's voice")
        speaker_embeddings: Optional[str] = param(None, "SpeechT5: a .npy/.pt file with a speaker x-vector")
        seed: Optional[int] = param(0, "random seed (sampling voices: VITS, Bark)")

    needs = (SPEAK,)

    def run(self, params, ctx):
        text = str(params.text or "").strip()
        if not text:
            raise InputError("text is empty: give the words to speak, e.g. text='Hello there'")
        backend, _ = self.model(params, ctx)
        options = {
            k: v
            for k, v in dict(
                length_scale=params.length_scale,
                sentence_silence=params.sentence_silence,
                speaker=params.speaker,
                speaker_embeddings=params.speaker_embeddings,
                seed=params.seed,
            ).items()
            if v is not None
        }
        if backend.remote:  # the API's names for voice and pace
            options.update(voice=params.speaker, speed=round(1.0 / params.length_scale, 3))
        with ctx.watch.time("speak"):
            audio = backend.speak(text, **options)
        seconds = ctx.watch.spans.get("speak", 0.0)
        ctx.metrics.update(items=1, characters=len(text), audio_s=round(audio.duration, 3))
        if seconds:
            ctx.metrics["characters_per_s"] = round(len(text) / seconds, 1)
            ctx.metrics["real_time_factor"] = round(seconds / audio.duration, 4) if audio.duration else None
        return audio


@hookimpl
def register_tasks(register):
    register(TtsTask)
