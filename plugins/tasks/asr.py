"""``task=asr``: speech to text — a transcript with timed segments (and words when asked).

The default is the embedded faster-whisper ``whisper-tiny.en`` (English); ``model=whisper-base``
is multilingual (language detection, ``translate=true`` to English). Any Whisper checkpoint
runs on ``backend=transformers``, and ``backend=openai`` sends the file to an API's
``/v1/audio/transcriptions``. Local backends read the recording in pieces of at most
``chunk_s`` seconds cut at quiet moments (bounded memory for hour-long files, nothing
dropped between pieces), with a progress bar in seconds of audio. ``diarize=true`` labels the
segments with their speakers (``S1``, ``S2``, ...; the embedded ``diarizer-campplus`` diarizer,
``speakers=N`` when the number is known), splitting segments where the speaker changes.
Outputs: the text on the terminal (a line per speaker turn when diarized), ``asr.json`` with
segments, ``asr.srt`` (and ``output=vtt``).

:func:`taskdeck.helpers.transcripts.transcribe_audio` is shared with minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from taskdeck import InputError, Task, hookimpl, param, required
from taskdeck.evaluation import TRANSCRIPT
from taskdeck.helpers.speakers import DEFAULT_DIARIZER, diarize_transcript, speaker_threshold_param
from taskdeck.helpers.transcripts import DEFAULT_ASR_MODEL, transcribe_audio

DEFAULT_MODEL = DEFAULT_ASR_MODEL


class AsrTask(Task):
    name = "asr"
    aliases = ("automatic-speech-recognition",)  # transformers' pipeline name
    description = "speech to text: a transcript with timed segments (faster-whisper, transformers, OpenAI API)"
    batch_fields = ("audio",)
    file_fields = ("audio",)
    outputs = ("text", "json", "srt")
    eval_metric = TRANSCRIPT

    @dataclass
    class Params:
        audio: str = required("the recording: wav/flac/ogg/mp3 (m4a/mp4/aac with ffmpeg installed)")
        model: str = param(
            DEFAULT_MODEL,
            "whisper-tiny.en (English), whisper-base (multilingual), a local "
            "folder or Hub id (backend=transformers), or an API model name",
        )
        language: Optional[str] = param(None, "language spoken (e.g. en, de); detected when not given")
        translate: bool = param(False, "translate the speech to English (multilingual models)")
        word_timestamps: bool = param(False, "time each word as well as each segment")
        beam_size: int = param(5, "beam search width", ge=1)
        vad_filter: bool = param(True, "skip silence with a voice activity detector (faster-whisper)")
        initial_prompt: Optional[str] = param(None, "text that sets spelling and style (names, jargon)")
        chunk_s: float = param(600.0, "longest piece of audio decoded at once, in seconds", ge=1)
        diarize: bool = param(False, "label each segment with its speaker (S1, S2, ...)")
        speakers: Optional[int] = param(None, "the number of speakers, when known (diarize=true)", ge=1)
        diarizer: str = param(DEFAULT_DIARIZER, "the model offering 'diarize' (diarize=true)")
        speaker_threshold: Optional[float] = speaker_threshold_param()

    def run(self, params, ctx):
        transcript = transcribe_audio(
            ctx,
            params.audio,
            model=params.model,
            language=params.language,
            translate=params.translate,
            word_timestamps=params.word_timestamps or params.diarize,  # speakers change between words
            beam_size=params.beam_size,
            vad_filter=params.vad_filter,
            initial_prompt=params.initial_prompt,
            chunk_s=params.chunk_s,
        )
        if params.diarize and transcript.segments:
            turns = diarize_transcript(
                ctx,
                transcript,
                params.audio,
                model=params.diarizer,
                speakers=params.speakers,
                threshold=params.speaker_threshold,
            )
            ctx.metrics.update(speakers=len({t.speaker for t in turns}), diarize_s=round(ctx.watch.spans["diarize"], 3))
            if not params.word_timestamps:
                for seg in transcript.segments:
                    seg.words = []
        ctx.metrics.update(items=1, audio_s=round(transcript.duration, 2))
        seconds = ctx.watch.spans.get("asr", 0.0)
        if seconds and transcript.duration:
            ctx.metrics["real_time_factor"] = round(seconds / transcript.duration, 4)
        if not transcript.text.strip():
            raise InputError(f"audio file '{params.audio}' holds no speech the model recognised")
        return transcript


@hookimpl
def register_tasks(register):
    register(AsrTask)
