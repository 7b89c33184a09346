"""Speech on the transformers backend: ``transcribe`` (Whisper, wav2vec2, ... through the
automatic-speech-recognition pipeline, chunked long-form decoding with timestamps) and
``speak`` (the text-to-audio pipeline: VITS/MMS-TTS, Bark, SpeechT5 with speaker embeddings).

Audio reaches the pipeline as 16 kHz samples decoded by :mod:`taskdeck.helpers.audio`, so no
ffmpeg is needed for wav/flac/ogg/mp3.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Optional

from taskdeck import Audio, ConfigError, InputError, ModelNotFoundError, Segment, Transcript, Word

ASR_TYPES = (
    "whisper",
    "speech_to_text",
    "wav2vec2",
    "wav2vec2-conformer",
    "hubert",
    "wavlm",
    "data2vec-audio",
    "moonshine",
)
TTS_TYPES = ("vits", "bark", "musicgen", "fastspeech2_conformer", "seamless_m4t")


def speech_head(config: dict) -> Optional[str]:
    """``speech-recognition`` / ``text-to-speech`` for a speech model's config, else None."""
    model_type = config.get("model_type")
    archs = config.get("architectures") or []
    if model_type == "speecht5":
        return "text-to-speech" if any("TextToSpeech" in a for a in archs) else "speech-recognition"
    if model_type in ASR_TYPES:
        return "speech-recognition"
    if model_type in TTS_TYPES:
        return "text-to-speech"
    return None


def load(backend: Any, head: str, source: str, kwargs: dict) -> None:
    """Build the pipeline for a speech model; the model and its processor load with it."""
    from transformers import pipeline

    task = "automatic-speech-recognition" if head == "speech-recognition" else "text-to-audio"
    # No local_files_only: the pipeline would pass it on to generate. A local folder needs no
    # Hub, and HF_HUB_OFFLINE (what makes a Hub id local-only) is read by huggingface_hub itself.
    try:
        pipe = pipeline(
            task,
            model=source,
            device=backend.device,
            dtype=backend.dtype,
            revision=kwargs.get("revision"),
            trust_remote_code=kwargs.get("trust_remote_code"),
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ModelNotFoundError(
            f"model '{backend.model.ref}' could not be loaded as a {head} pipeline: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
        ) from None
    backend.hf_model, backend.tokenizer, backend.speech_pipeline = pipe.model, pipe.tokenizer, pipe
    _quiet_whisper_notice()


class _DropNotice(logging.Filter):
    """Drops two notices transformers gives on Whisper runs, neither the user's to act on:
    the deprecation its own ``generate`` triggers on every window (it passes
    ``suppress_tokens`` next to a generation config itself), and "did not predict an ending
    timestamp" for a window cut mid-speech (:func:`_segments` takes that end from the
    neighbours)."""

    NOTICES = ("together with generation-related arguments", "did not predict an ending timestamp")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(n in message for n in self.NOTICES)


def _quiet_whisper_notice() -> None:
    for name in ("transformers.generation.utils", "transformers.models.whisper.tokenization_whisper"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _DropNotice) for f in log.filters):
            log.addFilter(_DropNotice())


def transcribe(
    backend: Any,
    audio: Any,
    *,
    language: Optional[str] = None,
    translate: bool = False,
    word_timestamps: bool = False,
    progress=None,
    beam_size: int = 1,
    chunk_length_s: float = 30.0,
    **_options: Any,
) -> Transcript:
    from taskdeck.helpers.audio import load_audio

    wave = audio if hasattr(audio, "samples") else load_audio(audio)
    pipe = backend.speech_pipeline
    whisper = backend.hf_model.config.model_type == "whisper"
    kwargs: dict[str, Any] = {
        "chunk_length_s": chunk_length_s,
        "batch_size": backend.params.batch_size,
        "return_timestamps": "word" if word_timestamps else (True if whisper else "word"),
    }
    generate: dict[str, Any] = {}
    if whisper:
        check_whisper_language(backend, language, translate)
        kwargs["ignore_warning"] = True  # chunked seq2seq decoding: the pipeline's caveat, not the user's
        if not getattr(backend.hf_model.generation_config, "is_multilingual", False):
            language = "en"  # English-only (checked above): the model takes no language token
        else:
            # Not given: detected once, on the first 30 s, then given to every window, so the
            # piece has one language and the transcript says which (the pipeline's
            # return_language fails with batch_size > 1).
            language = _language_code(language) if language else _detect_language(backend, wave)
            if language:
                generate["language"] = language
        if translate:
            generate["task"] = "translate"
        if beam_size and beam_size > 1:
            generate["num_beams"] = beam_size
    elif translate:
        raise ConfigError(f"model '{backend.model.ref}' cannot translate; use a multilingual Whisper model")
    if generate:
        kwargs["generate_kwargs"] = generate
    try:
        out = pipe({"raw": wave.samples, "sampling_rate": wave.sample_rate}, **kwargs)
    except ValueError as exc:  # e.g. a language the model does not know
        raise ConfigError(f"model '{backend.model.ref}': {str(exc).splitlines()[0][:200]}") from None
    except IndexError as exc:
        # transformers' Whisper generate_with_fallback indexes the last token of each decoded
        # window and fails on an empty one: the model heard nothing it could write down.
        if not (whisper and _raised_in(exc, "generate_with_fallback")):
            raise
        out = {"text": "", "chunks": []}
    segments = _segments(out, wave.duration, word_timestamps, whisper)
    if progress is not None:
        progress(wave.duration)
    text = " ".join(s.text for s in segments) if segments else str(out.get("text", "")).strip()
    return Transcript(
        text=text.strip(),
        segments=segments,
        language=language or "",
        duration=round(wave.duration, 3),
        source=getattr(wave, "source", ""),
        method=f"transformers ASR pipeline {backend.model.ref} (chunks of {chunk_length_s:g} s)",
    )


def check_whisper_language(backend: Any, language: Optional[str], translate: bool) -> None:
    """One line for what an English-only Whisper (``*.en``) or an unknown language cannot do."""
    config = backend.hf_model.generation_config
    if not getattr(config, "is_multilingual", False):
        if translate:
            raise ConfigError(
                f"model '{backend.model.ref}' is English-only and cannot translate; use a multilingual Whisper model"
            )
        if language and _language_code(language) != "en":
            raise ConfigError(
                f"model '{backend.model.ref}' is English-only: drop language={language} or use a "
                f"multilingual Whisper model"
            )
        return
    known = getattr(config, "lang_to_id", None) or {}
    if language and known:
        if f"<|{_language_code(language)}|>" not in known:
            codes = sorted(t[2:-2] for t in known)
            raise ConfigError(
                f"model '{backend.model.ref}' does not know language '{language}'; give one of: "
                f"{', '.join(codes[:30])}{', ...' if len(codes) > 30 else ''}"
            )


def _language_code(language: str) -> str:
    """``de``, ``German`` or ``<|de|>`` → ``de``."""
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    name = language.strip().lower()
    name = name[2:-2] if name.startswith("<|") and name.endswith("|>") else name
    return TO_LANGUAGE_CODE.get(name, name)


def _detect_language(backend: Any, wave: Any) -> str:
    """The language code Whisper hears in the first 30 s (``en`` for English-only models)."""
    import torch

    model = backend.hf_model
    if not getattr(model.generation_config, "is_multilingual", False):
        return "en"
    pipe = backend.speech_pipeline
    head = wave.samples[: int(30 * wave.sample_rate)]
    features = pipe.feature_extractor(head, sampling_rate=wave.sample_rate, return_tensors="pt").input_features
    with torch.inference_mode():
        ids = model.detect_language(features.to(model.device, model.dtype))
    token = pipe.tokenizer.convert_ids_to_tokens(int(ids.reshape(-1)[0]))
    return token[2:-2] if token.startswith("<|") and token.endswith("|>") else ""


def _raised_in(exc: BaseException, function: str) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == function:
            return True
        tb = tb.tb_next
    return False


def _segments(out: dict, duration: float, words: bool, whisper: bool) -> list[Segment]:
    """Timed segments from the pipeline's chunks. A missing time (a window that ends without
    its closing timestamp, which chunked decoding can give) is taken from the neighbours: a
    start from the previous end, an end from the next start or the end of the audio."""
    chunks = [c for c in out.get("chunks") or [] if str(c.get("text", "")).strip()]
    spans: list[tuple[Optional[float], Optional[float], str]] = []
    for c in chunks:
        start, end = (tuple(c.get("timestamp") or ()) + (None, None))[:2]
        spans.append(
            (
                None if start is None else float(start),
                None if end is None else float(end),
                str(c.get("text", "")).strip(),
            )
        )
    if not spans:
        text = str(out.get("text", "")).strip()
        return [Segment(0.0, round(duration, 3), text)] if text else []
    timed, previous_end = [], 0.0
    for i, (start, end, text) in enumerate(spans):
        start = previous_end if start is None else start
        if end is None:
            following = next((s for s, _, _ in spans[i + 1 :] if s is not None), None)
            end = following if following is not None and following >= start else duration
        start = min(max(0.0, start), duration)
        end = min(max(start, end), duration)
        timed.append((round(start, 3), round(end, 3), text))
        previous_end = end
    if words or not whisper:  # word timestamps: words grouped into segments
        return _group_words([Word(a, b, t) for a, b, t in timed])
    return [Segment(a, b, t) for a, b, t in timed]


def _group_words(words: list[Word], pause_s: float = 1.0, longest_s: float = 10.0) -> list[Segment]:
    """Segments of words (what subtitles show): a new one after a sentence's end, a pause of
    ``pause_s`` or more, or when a segment would pass ``longest_s`` seconds."""
    groups: list[list[Word]] = []
    for w in words:
        last = groups[-1][-1] if groups else None
        if (
            last is None
            or last.word.endswith((".", "?", "!"))
            or w.start - last.end >= pause_s
            or w.end - groups[-1][0].start > longest_s
        ):
            groups.append([w])
        else:
            groups[-1].append(w)
    return [Segment(g[0].start, g[-1].end, " ".join(w.word for w in g), words=g) for g in groups]


def speak(
    backend: Any,
    text: str,
    *,
    length_scale: float = 1.0,
    sentence_silence: float = 0.25,
    speaker_embeddings: Optional[str] = None,
    seed: Optional[int] = 0,
    **_options: Any,
) -> Audio:
    import numpy as np
    import torch

    if not str(text).strip():
        raise InputError("text is empty: give the words to speak")
    pipe, model = backend.speech_pipeline, backend.hf_model
    forward: dict[str, Any] = {}
    if model.config.model_type == "speecht5":
        if not speaker_embeddings:
            raise ConfigError("SpeechT5 needs a voice: speaker_embeddings=<file.npy or .pt with a 512-d x-vector>")
        forward["speaker_embeddings"] = _xvector(speaker_embeddings)
    if hasattr(model, "speaking_rate") and length_scale:
        model.speaking_rate = 1.0 / float(length_scale)
    if seed is not None:
        torch.manual_seed(int(seed))
    pieces: list[Any] = []
    rate = 16000
    for sentence in _sentences(str(text)):
        out = pipe(sentence, forward_params=forward) if forward else pipe(sentence)
        rate = int(out["sampling_rate"])
        samples = np.asarray(out["audio"], dtype=np.float32)
        samples = samples.mean(axis=0) if samples.ndim > 1 else samples
        if pieces:
            pieces.append(np.zeros(int(sentence_silence * rate), dtype=np.float32))
        pieces.append(samples.reshape(-1))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return Audio(
        samples=samples,
        sample_rate=rate,
        text=str(text),
        method=f"transformers text-to-audio pipeline {backend.model.ref}",
    )


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p for p in (s.strip() for s in parts) if p]


def _xvector(path: str) -> Any:
    import numpy as np
    import torch

    file = Path(path).expanduser()
    if not file.is_file():
        raise InputError(f"speaker_embeddings file '{path}' does not exist")
    vector = torch.load(file) if file.suffix in (".pt", ".pth") else torch.from_numpy(np.load(file))
    return vector.reshape(1, -1).float()
