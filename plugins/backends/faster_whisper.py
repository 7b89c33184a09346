"""faster-whisper backend: Whisper on CTranslate2, int8 on CPU — the default speech-to-text.

Loads CTranslate2 Whisper folders (the embedded ``whisper-tiny.en`` and ``whisper-base``
packs, or any converted model folder). ``transcribe`` takes a path or a
:class:`taskdeck.helpers.audio.Waveform` and offers faster-whisper's options: ``beam_size``,
``vad_filter`` (Silero VAD, shipped with faster-whisper), a forced ``language`` or detection,
``translate`` to English, word timestamps, ``initial_prompt``. English-only models (``*.en``)
refuse another language in one line that names a multilingual model.

With the voice activity detector on, speech is decoded ``batch_size`` pieces at a time by
faster-whisper's ``BatchedInferencePipeline`` (about twice the speed of one after another on two
cores, and the same word error rate on the recordings measured; ``batch_size=1`` decodes as
``WhisperModel.transcribe`` does). Its pieces are cut at pauses of half a second, so they end
between sentences, and its answer (one segment per piece of up to 30 s) is split into sentences
by the words' times.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import (
    TOKENIZE,
    TRANSCRIBE,
    Backend,
    BackendParams,
    ConfigError,
    Segment,
    Transcript,
    Word,
    hookimpl,
    param,
)
from taskdeck.helpers.cpu import available_cpus
from taskdeck.helpers.speakers import word_sentences

MULTILINGUAL_HINT = "whisper-base"
#: Batched pieces end at pauses this long (faster-whisper's batched default, 160 ms, cuts
#: mid-sentence: word error rate 11.6 % against 10.0 % one piece after another, on the
#: recordings of ``benchmarks/asr_speed.py --wer``; at 500 ms, 10.0 %).
BATCH_PAUSE_MS = 500


@dataclass
class FasterWhisperParams(BackendParams):
    name: str = "faster_whisper"
    compute_type: str = param("int8", "int8 | int8_float32 | float32 | float16 (GPU) | default")
    num_workers: int = param(1, "parallel transcriptions sharing the model", ge=1)
    batch_size: int = param(8, "speech pieces decoded together (with vad_filter); 1 decodes one after another", ge=1)


class FasterWhisperBackend(Backend):
    name = "faster_whisper"
    description = "faster-whisper: Whisper on CTranslate2 (int8 on CPU); the default speech-to-text"
    Params = FasterWhisperParams
    formats = ("ctranslate2",)
    all_capabilities = (TRANSCRIBE, TOKENIZE)
    extra = "speech"
    priority = 10

    @classmethod
    def missing_package(cls) -> Optional[str]:
        return None if importlib.util.find_spec("faster_whisper") else "faster-whisper"

    def english_only(self) -> bool:
        """True for a model without language tokens (tiny.en, base.en, ...): the loaded
        model says; before loading, the ``.en`` name does."""
        if hasattr(self, "whisper"):
            return not self.whisper.model.is_multilingual
        return self.model.ref.rstrip("/").endswith(".en")

    def capabilities(self) -> set[str]:
        has_tokenizer = (self.model.path() / "tokenizer.json").is_file()
        return {TRANSCRIBE, TOKENIZE} if has_tokenizer else {TRANSCRIBE}

    def load(self) -> None:
        if self.capability == TOKENIZE:  # the model's tokenizer.json alone
            from taskdeck.helpers.tokenizer_file import TokenizerFile

            self.tokens = TokenizerFile(self.model.path() / "tokenizer.json")
            self.loaded = True
            return
        import logging

        from faster_whisper import WhisperModel

        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # no per-file INFO lines
        p = self.params
        device = "cuda" if str(p.device).startswith("cuda") else "cpu" if p.device in ("cpu", "mps") else "auto"
        index = int(str(p.device).split(":")[1]) if str(p.device).startswith("cuda:") else 0
        compute = "int8" if device == "cpu" and p.compute_type == "float16" else p.compute_type  # no fp16 on CPU
        self.whisper = WhisperModel(
            str(self.model.path()),
            device=device,
            device_index=index,
            compute_type=compute,
            cpu_threads=p.threads or available_cpus(),
            num_workers=p.num_workers,
            local_files_only=True,
        )
        self.loaded = True

    def unload(self) -> None:
        self.__dict__.pop("batched", None)
        self.__dict__.pop("whisper", None)
        self.__dict__.pop("tokens", None)
        self.loaded = False

    # ---- its tokenizer.json ----
    def tokenize(self, text, *, add_special_tokens=True):
        return self.tokens.tokenize(text, add_special_tokens=add_special_tokens)

    def detokenize(self, ids, *, skip_special_tokens=False):
        return self.tokens.detokenize(ids, skip_special_tokens=skip_special_tokens)

    def spell(self, ids):
        return self.tokens.spell(ids)

    def vocabulary(self):
        return self.tokens.vocabulary()

    def render_chat(self, messages, *, add_generation_prompt=True):
        return self.tokens.render_chat(messages, add_generation_prompt=add_generation_prompt)

    def check_language(self, language: Optional[str], translate: bool) -> None:
        """One line when an English-only model is asked for another language or to translate."""
        if not self.english_only():
            return
        if language and language.lower() not in ("en", "english"):
            raise ConfigError(
                f"model '{self.model.ref}' transcribes English only; for language={language} "
                f"choose a multilingual model, e.g. {MULTILINGUAL_HINT} (model=, or asr.model= "
                f"in task=minutes)"
            )
        if translate:
            raise ConfigError(
                f"model '{self.model.ref}' is English-only and cannot translate; use a "
                f"multilingual model, e.g. {MULTILINGUAL_HINT}"
            )

    def transcribe(
        self,
        audio,
        *,
        language=None,
        translate=False,
        word_timestamps=False,
        progress=None,
        beam_size: int = 5,
        vad_filter: bool = True,
        initial_prompt: Optional[str] = None,
        temperature: Any = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        batch_size: Optional[int] = None,
        **options: Any,
    ) -> Transcript:
        """``batch_size`` (this call's; else ``backend.batch_size``): pieces decoded together."""
        self.check_language(language, translate)
        batch_size = batch_size or self.params.batch_size
        samples = getattr(audio, "samples", None)
        source = getattr(audio, "source", "") if samples is not None else str(audio)
        batched = vad_filter and batch_size > 1
        common: dict[str, Any] = dict(
            language=language or None,
            task="translate" if translate else "transcribe",
            beam_size=beam_size,
            initial_prompt=initial_prompt,
            temperature=temperature,
        )
        if batched:
            segments_iter, info = self._batched().transcribe(
                samples if samples is not None else str(audio),
                batch_size=batch_size,
                vad_parameters={"min_silence_duration_ms": BATCH_PAUSE_MS},
                word_timestamps=True,  # to cut its pieces into sentences
                **common,
            )
        else:
            segments_iter, info = self.whisper.transcribe(
                samples if samples is not None else str(audio),
                vad_filter=vad_filter,
                word_timestamps=word_timestamps,
                condition_on_previous_text=options.get("condition_on_previous_text", True),
                **common,
            )
        segments = []
        for seg in segments_iter:
            words = [Word(w.start, w.end, w.word, round(w.probability, 4)) for w in (seg.words or [])]
            pieces = sentences(words) if batched and words else [Segment(seg.start, seg.end, seg.text.strip(), words)]
            for piece in pieces:
                if not word_timestamps:
                    piece.words = []
                segments.append(piece)
            if progress is not None:
                progress(seg.end)
        if progress is not None:
            progress(info.duration)
        how = f"{'translate' if translate else 'transcribe'}, beam {beam_size}"
        if batched:
            how += f", batches of {batch_size}"
        return Transcript(
            text=" ".join(s.text for s in segments if s.text).strip(),
            segments=segments,
            language=info.language or (language or ""),
            duration=round(info.duration, 3),
            source=source,
            method=f"faster-whisper {self.model.ref} ({how})",
        )

    def _batched(self) -> Any:
        if "batched" not in self.__dict__:
            from faster_whisper import BatchedInferencePipeline

            self.batched = BatchedInferencePipeline(self.whisper)
        return self.batched


def sentences(words: list[Word]) -> list[Segment]:
    """Timed words → one segment per sentence."""
    return [
        Segment(start=ws[0].start, end=ws[-1].end, text="".join(w.word for w in ws).strip(), words=ws)
        for ws in word_sentences(words)
    ]


@hookimpl
def register_backends(register):
    register(FasterWhisperBackend)
