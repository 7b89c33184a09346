"""``task=minutes``: meeting audio (or a transcript) → structured minutes in JSON and Markdown.

Stages, each with a progress bar: speech-to-text (``asr.model`` on ``asr.backend``, the
embedded faster-whisper tiny.en by default) → transcript split on segment boundaries to fit
the chat model's window → structured JSON minutes per chunk (``llm.model`` on
``llm.backend``, the embedded Qwen 1.5B on llama.cpp by default; the schema constrains
decoding where the backend can, else the answer is validated and retried) → merged →
checked against the transcript (owners and attendees must be named in it, unsupported
decisions are removed) → rendered as Markdown. The run directory holds ``minutes.json``,
``minutes.md`` and the transcript (``transcript.txt``, ``transcript.json``); when the model's
answer never matches the schema, its raw answer is saved as ``minutes.raw.txt``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from taskdeck import CHAT, DIARIZE, InputError, Task, TaskdeckError, Transcript, hookimpl, param
from taskdeck.helpers import languages
from taskdeck.io import atomic_write_json, atomic_write_text

from . import prompts
from .extract import check_against, chunk_budget, chunk_lines, extract_part, merge_parts, stated, transcript_lines
from .result import ActionItem, Attendee, Minutes
from .schema import NOT_STATED
from .speakers import assign_speakers


@dataclass
class AsrChoice:
    """The speech-to-text model of ``task=minutes`` (``asr.model=``, ``asr.backend=``)."""

    model: str = param("whisper-tiny.en", "the speech-to-text model")
    backend: str = param("auto", "auto | faster_whisper | transformers | openai | ...")
    beam_size: int = param(5, "beam search width", ge=1)
    vad_filter: bool = param(True, "skip silence with a voice activity detector (faster-whisper)")


@dataclass
class LlmChoice:
    """The chat model that writes the minutes (``llm.model=``, ``llm.backend=``)."""

    model: str = param("qwen2.5-coder-1.5b", "the chat model that writes the minutes")
    backend: str = param("auto", "auto | llama_cpp | transformers | openai | ...")
    max_new_tokens: int = param(1024, "most tokens per chunk of the transcript", ge=1)
    temperature: float = param(0.0, "sampling temperature; 0 = greedy", ge=0)
    retries: int = param(2, "new tries when an answer does not match the schema", ge=0)
    n_ctx: int = param(8192, "context window, where the backend has one to set (llama.cpp)", ge=256)


class MinutesTask(Task):
    name = "minutes"
    description = "meeting minutes from audio or a transcript: summary, attendees, decisions, action items"
    batch_fields = ("audio",)

    @dataclass
    class Params:
        audio: Optional[str] = param(None, "the meeting recording (wav/flac/ogg/mp3; m4a/mp4 with ffmpeg)", input=True)
        transcript: Optional[str] = param(None, "a transcript instead of audio: .txt, .json, .srt or .vtt", input=True)
        language: Optional[str] = param(None, "language of the meeting (passed to ASR) and of the minutes")
        asr: AsrChoice = field(
            default_factory=AsrChoice, metadata={"help": "speech-to-text: asr.model, asr.backend, asr.beam_size"}
        )
        llm: LlmChoice = field(
            default_factory=LlmChoice, metadata={"help": "minutes writer: llm.model, llm.backend, llm.max_new_tokens"}
        )
        diarization: Optional[str] = param(None, "a model offering 'diarize' to label speakers (plugin hook)")
        check: bool = param(True, "check owners, attendees and decisions against the transcript")
        seed: Optional[int] = param(0, "random seed for the chat model")
        system_prompt: str = param(prompts.SYSTEM, "system prompt of the minutes writer")
        extract_prompt: str = param(prompts.EXTRACT, "prompt per chunk; {part}, {language}, {transcript}")
        part_prompt: str = param(prompts.PART, "said of a chunk of a long meeting; {index}, {total}")
        merge_prompt: str = param(prompts.MERGE_SUMMARY, "merges chunk summaries; {summaries}, {language}")
        language_prompt: str = param(prompts.LANGUAGE, "asks for minutes in language=; {language}")

    def run(self, params, ctx):
        transcript = self._transcript(params, ctx)
        lines = transcript_lines(transcript)
        if not lines:
            what = (
                f"audio '{params.audio}' holds no speech"
                if params.audio
                else f"transcript '{params.transcript}' is empty"
            )
            raise InputError(f"{what}: nothing to write minutes about")
        backend, _ = ctx.model(
            params.llm.model, needs=[CHAT], backend=params.llm.backend, options={"n_ctx": params.llm.n_ctx}
        )
        language_line = (
            params.language_prompt.format(language=language_name(params.language)) if params.language else ""
        )
        data, chunks = self._extract(backend, lines, params, language_line, ctx)
        checks = check_against(data, transcript.text + "\n" + "\n".join(lines)) if params.check else []
        ctx.metrics.update(items=1, chunks=len(chunks), audio_s=round(transcript.duration, 2))
        return _minutes(
            data,
            checks,
            transcript,
            len(chunks),
            {"speech-to-text": params.asr.model, "minutes": params.llm.model}
            if params.audio
            else {"minutes": params.llm.model},
        )

    # ---- stages ----
    def _transcript(self, params, ctx) -> Transcript:
        from taskdeck.helpers.transcripts import read_transcript, transcribe_audio

        if bool(params.audio) == bool(params.transcript):
            raise InputError(
                "task 'minutes' needs audio=<recording> or transcript=<file> (one of them): "
                "add audio=meeting.mp3 to the command"
            )
        if params.transcript:
            transcript = read_transcript(params.transcript)
        else:
            transcript = transcribe_audio(
                ctx,
                params.audio,
                model=params.asr.model,  # timed as "asr"
                backend=params.asr.backend,
                language=params.language,
                beam_size=params.asr.beam_size,
                vad_filter=params.asr.vad_filter,
            )
            if params.diarization:
                diarizer, _ = ctx.model(params.diarization, needs=[DIARIZE])
                assign_speakers(transcript.segments, diarizer.diarize(params.audio))
            ctx.metrics["asr_s"] = round(ctx.watch.spans.get("asr", 0.0), 3)
            if ctx.run_dir is not None:
                _save_transcript(transcript, Path(ctx.run_dir))
        return transcript

    def _extract(self, backend, lines, params, language_line, ctx) -> tuple[dict, list[str]]:
        count = backend.count_tokens
        budget = chunk_budget(
            backend.context_window(), count, params.system_prompt, params.extract_prompt, params.llm.max_new_tokens
        )
        chunks = chunk_lines(lines, count, budget)
        parts = []
        with ctx.watch.time("llm"):
            for i, chunk in ctx.progress(list(enumerate(chunks, 1)), total=len(chunks), desc="minutes"):
                parts.append(self._part(backend, chunk, i, len(chunks), params, language_line, ctx))
            data = merge_parts(parts)  # for one part: its lists deduplicated
            data["summary"] = (
                parts[0]["summary"] if len(parts) == 1 else _merged_summary(backend, parts, params, language_line)
            )
        ctx.metrics["llm_s"] = round(ctx.watch.spans.get("llm", 0.0), 3)
        return data, chunks

    def _part(self, backend, chunk, index, total, params, language_line, ctx) -> dict:
        from taskdeck.helpers.structured import StructuredOutputError

        try:
            return extract_part(backend, chunk, index, total, params, language_line)
        except StructuredOutputError as exc:
            where = ""
            if ctx.run_dir is not None:
                raw = atomic_write_text(Path(ctx.run_dir) / "minutes.raw.txt", exc.raw)
                where = f"; its raw answer is in {raw}"
            raise TaskdeckError(
                f"the model '{params.llm.model}' did not produce valid minutes "
                f"({exc}){where}; try more retries (llm.retries=), a larger model (llm.model=), "
                f"or a server that honours response_format"
            ) from None


def language_name(code: Optional[str]) -> str:
    """A language name for the prompt (``de`` → German); names pass through."""
    return languages.name_of(code)


def _merged_summary(backend, parts: list[dict], params, language_line: str) -> str:
    summaries = "\n\n".join(f"Part {i}: {p.get('summary', '').strip()}" for i, p in enumerate(parts, 1))
    prompt = params.merge_prompt.format(summaries=summaries, language=" " + language_line if language_line else "")
    gen = backend.chat(
        [{"role": "system", "content": params.system_prompt}, {"role": "user", "content": prompt}],
        max_new_tokens=min(params.llm.max_new_tokens, 400),
        temperature=params.llm.temperature,
        seed=params.seed,
    )
    return gen.text.strip()


def _save_transcript(transcript: Transcript, run_dir: Path) -> None:
    atomic_write_text(run_dir / "transcript.txt", "\n".join(transcript_lines(transcript)) + "\n")
    atomic_write_json(run_dir / "transcript.json", transcript.to_dict())


def _minutes(data: dict, checks: list[str], transcript: Transcript, chunks: int, models: dict) -> Minutes:
    def text(key: str) -> str:
        value = str(data.get(key) or "").strip()
        return value if stated(value) else NOT_STATED

    return Minutes(
        title=text("title") if stated(data.get("title")) else "Meeting minutes",
        date=text("date"),
        location=text("location"),
        attendees=[
            Attendee(a["name"].strip(), a["role"].strip() if stated(a.get("role")) else NOT_STATED)
            for a in data.get("attendees", [])
        ],
        executive_summary=str(data.get("summary", "")).strip(),
        discussion_points=[str(x).strip() for x in data.get("discussion_points", []) if str(x).strip()],
        decisions=[str(x).strip() for x in data.get("decisions", []) if str(x).strip()],
        action_items=[
            ActionItem(
                a["owner"].strip() if stated(a.get("owner")) else NOT_STATED,
                a["task"].strip(),
                a["due"].strip() if stated(a.get("due")) else NOT_STATED,
            )
            for a in data.get("action_items", [])
            if str(a.get("task", "")).strip()
        ],
        next_steps=[str(x).strip() for x in data.get("next_steps", []) if str(x).strip()],
        checks=checks,
        source=transcript.source,
        duration=transcript.duration,
        language=transcript.language,
        chunks=chunks,
        models=models,
    )


@hookimpl
def register_tasks(register):
    register(MinutesTask)
