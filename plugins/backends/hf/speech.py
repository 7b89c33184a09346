"""Speech on the transformers backend: ``transcribe`` (Whisper, wav2vec2, ... through the
automatic-speech-recognition pipeline, chunked long-form decoding with timestamps) and
``speak`` (the text-to-audio pipeline: VITS/MMS-TTS, Bark, SpeechT5 with speaker embeddings).

Audio reaches the pipeline as 16 kHz samples decoded by :mod:`taskdeck.audio`, so no
ffmpeg is needed for wav/flac/ogg/mp3.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from taskdeck import Audio, ConfigError, InputError, Segment, Transcript, Word

ASR_TYPES = ("whisper", "speech_to_text", "wav2vec2", "wav2vec2-conformer", "hubert", "wavlm", "data2vec-audio",
             "moonshine")
TTS_TYPES = ("vits", "bark", "musicgen", "fastspeech2_conformer", "seamless_m4t")


def speech_kind(config: dict) -> Optional[str]:
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


def load(backend: Any, kind: str, source: str, kwargs: dict) -> None:
    """Build the pipeline for a speech model; the model and its processor load with it."""
    from transformers import pipeline

    task = "automatic-speech-recognition" if kind == "speech-recognition" else "text-to-audio"
    options = {k: v for k, v in kwargs.items() if k in ("revision", "trust_remote_code", "local_files_only")}
    pipe = pipeline(task, model=source, device=backend.device, dtype=backend.dtype,
                    model_kwargs={"local_files_only": True} if kwargs.get("local_files_only") else None,
                    **{k: v for k, v in options.items() if k != "local_files_only"})
    backend.hf_model, backend.tokenizer, backend.speech_pipeline = pipe.model, pipe.tokenizer, pipe


def transcribe(backend: Any, audio: Any, *, language: Optional[str] = None, translate: bool = False,
               word_timestamps: bool = False, progress=None, beam_size: int = 1, chunk_length_s: float = 30.0,
               **_options: Any) -> Transcript:
    from taskdeck.audio import load_audio

    wave = audio if hasattr(audio, "samples") else load_audio(audio)
    pipe = backend.speech_pipeline
    whisper = backend.hf_model.config.model_type == "whisper"
    kwargs: dict[str, Any] = {"chunk_length_s": chunk_length_s, "batch_size": backend.params.batch_size,
                              "return_timestamps": "word" if word_timestamps else (True if whisper else "word")}
    generate: dict[str, Any] = {}
    if whisper:
        if language:
            generate["language"] = language
        if translate:
            generate["task"] = "translate"
        if beam_size and beam_size > 1:
            generate["num_beams"] = beam_size
    elif translate or language:
        if translate:
            raise ConfigError(f"model '{backend.model.ref}' cannot translate; use a multilingual Whisper model")
    if generate:
        kwargs["generate_kwargs"] = generate
    try:
        out = pipe({"raw": wave.samples, "sampling_rate": wave.sample_rate}, **kwargs)
    except ValueError as exc:  # e.g. an English-only Whisper asked for another language
        raise ConfigError(f"model '{backend.model.ref}': {str(exc).splitlines()[0][:200]}") from None
    segments = _segments(out, wave.duration, word_timestamps, whisper)
    if progress is not None:
        progress(wave.duration)
    return Transcript(text=str(out.get("text", "")).strip(), segments=segments, language=language or "",
                      duration=round(wave.duration, 3), source=getattr(wave, "source", ""),
                      method=f"transformers ASR pipeline {backend.model.ref} (chunks of {chunk_length_s:g} s)")


def _segments(out: dict, duration: float, words: bool, whisper: bool) -> list[Segment]:
    chunks = out.get("chunks") or []
    spans = []
    for c in chunks:
        start, end = (c.get("timestamp") or (None, None))
        start = float(start or 0.0)
        end = float(end) if end is not None else duration
        spans.append((start, max(start, end), str(c.get("text", ""))))
    if not spans:
        text = str(out.get("text", "")).strip()
        return [Segment(0.0, duration, text)] if text else []
    if words or not whisper:  # word timestamps: one segment holding the words
        items = [Word(a, b, t.strip()) for a, b, t in spans if t.strip()]
        return [Segment(items[0].start, items[-1].end, " ".join(w.word for w in items), words=items)] if items else []
    return [Segment(a, b, t.strip()) for a, b, t in spans if t.strip()]


def speak(backend: Any, text: str, *, length_scale: float = 1.0, sentence_silence: float = 0.25,
          speaker_embeddings: Optional[str] = None, seed: Optional[int] = 0, **_options: Any) -> Audio:
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
    pieces, rate = [], 16000
    for sentence in _sentences(str(text)):
        out = pipe(sentence, forward_params=forward) if forward else pipe(sentence)
        rate = int(out["sampling_rate"])
        samples = np.asarray(out["audio"], dtype=np.float32)
        samples = samples.mean(axis=0) if samples.ndim > 1 else samples
        if pieces:
            pieces.append(np.zeros(int(sentence_silence * rate), dtype=np.float32))
        pieces.append(samples.reshape(-1))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return Audio(samples=samples, sample_rate=rate, text=str(text),
                 method=f"transformers text-to-audio pipeline {backend.model.ref}")


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
