"""``task=minutes``: meeting audio (or a transcript) → structured minutes in JSON and Markdown.

Stages, each with its progress line: speech-to-text (``asr.model`` on ``asr.backend``, the
embedded faster-whisper tiny.en by default) → speaker turns (``diarize``: the embedded
``diarizer-campplus`` diarizer whenever it is installed) → numbered transcript lines → focused passes
of the chat model (``llm.model`` on ``llm.backend``, the embedded Qwen 1.5B on llama.cpp by
default; ``passes.py``): facts and a name per voice, action items, decisions, each item citing
its line → checks by code against those lines (``checks.py``: owners, due dates as said,
unsupported items dropped; ``dates.py``: a date whose weekday is wrong corrected or reported)
→ the summary from the checked lists, its unsupported sentences dropped → Markdown. The
run directory holds ``minutes.json``, ``minutes.md`` and the transcript (``transcript.txt``,
``transcript.json``, speaker-labelled when diarized); when an answer never matches its schema,
the raw answer is saved as ``minutes.raw.txt``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from taskdeck import CHAT, InputError, Task, TaskdeckError, Transcript, hookimpl, param
from taskdeck.helpers import languages
from taskdeck.helpers.speakers import (
    DEFAULT_DIARIZER,
    diarize_transcript,
    diarizer_model,
    pack_diarizers,
    speaker_threshold_param,
)
from taskdeck.io import atomic_write_json, atomic_write_text

from . import prompts, templates

if TYPE_CHECKING:  # the writing parts load when minutes are written, not when tasks are listed
    from taskdeck.helpers.voices import Match, VoiceLibrary, Voiceprint

    from .evidence import Line
    from .passes import Writer
    from .result import Minutes
    from .templates import Template

BUILT_IN_TEMPLATES = templates.names()  # read once: the form's choices and the option's help


@dataclass
class Heard:
    """The voices of a diarized recording: each speaker's voiceprint, and those recognised as
    known voices (label → name and similarity) from the library in ``folder``."""

    diarizer: str
    prints: dict[str, Voiceprint] = field(default_factory=dict)
    known: dict[str, Match] = field(default_factory=dict)
    folder: str = ""
    doubted: dict[str, list[str]] = field(default_factory=dict)  # known voices the transcript contradicts


@dataclass
class AsrChoice:
    """The speech-to-text model of ``task=minutes`` (``asr.model=``, ``asr.backend=``)."""

    model: str = param("whisper-tiny.en", "the speech-to-text model")
    backend: str = param("auto", "auto | faster_whisper | transformers | openai | ...")
    beam_size: int = param(5, "beam search width", ge=1)
    vad_filter: bool = param(True, "skip silence with a voice activity detector (faster-whisper)")
    #: 8 transcribes the example meeting in 5.4 s instead of 11.4 s, at a lower word error rate,
    #: but the minutes of that meeting then lost a decision (benchmarks/minutes_facts.py): one
    #: piece after another stays the default here until more meetings say otherwise.
    batch_size: int = param(1, "speech pieces faster-whisper decodes together (8: about twice the speed)", ge=1)


@dataclass
class LlmChoice:
    """The chat model that writes the minutes (``llm.model=``, ``llm.backend=``)."""

    model: str = param("qwen2.5-coder-1.5b", "the chat model that writes the minutes")
    backend: str = param("auto", "auto | llama_cpp | transformers | openai | ...")
    max_new_tokens: int = param(1024, "most tokens per answer (each pass has its own, smaller cap)", ge=1)
    temperature: float = param(0.0, "sampling temperature; 0 = greedy", ge=0)
    retries: int = param(2, "new tries when an answer does not match the schema", ge=0)
    n_ctx: int = param(8192, "context window, where the backend has one to set (llama.cpp)", ge=256)
    chunk_tokens: int = param(
        6000, "most transcript tokens the passes read at once: a longer meeting is read in parts", ge=256
    )


class MinutesTask(Task):
    name = "minutes"
    description = (
        "meeting minutes from audio or a transcript: who said they would do what, by when, and what was decided"
    )
    batch_fields = ("audio",)
    form_hints = {"transcript": "file:.txt,.json,.srt,.vtt", "template": "main;choices:" + ",".join(BUILT_IN_TEMPLATES)}

    @dataclass
    class Params:
        audio: Optional[str] = param(None, "the meeting recording (wav/flac/ogg/mp3; m4a/mp4 with ffmpeg)", input=True)
        transcript: Optional[str] = param(
            None, "a transcript instead of audio: .txt ('Name: words' lines name speakers), .json, .srt or .vtt",
            input=True,
        )  # fmt: skip
        language: Optional[str] = param(
            None, "language of the meeting (speech-to-text; outside English, asr.model=whisper-base)"
        )
        summary_language: Optional[str] = param(
            None, "language of the minutes (default: the meeting's); made in English, then translated"
        )
        template: str = param(
            "default", "the minutes' sections: " + ", ".join(BUILT_IN_TEMPLATES) + ", or a YAML file (docs/minutes.md)"
        )
        asr: AsrChoice = field(
            default_factory=AsrChoice, metadata={"help": "speech-to-text: asr.model, asr.backend, asr.beam_size"}
        )
        llm: LlmChoice = field(
            default_factory=LlmChoice, metadata={"help": "minutes writer: llm.model, llm.backend, llm.max_new_tokens"}
        )
        diarize: Optional[bool] = param(
            None, "label speakers: true, false, or null (when a diarization pack is installed)"
        )
        speakers: Optional[int] = param(None, "the number of speakers, when known (diarization)", ge=1)
        diarizer: str = param(DEFAULT_DIARIZER, "the model offering 'diarize'")
        speaker_threshold: Optional[float] = speaker_threshold_param()
        known_voices: bool = param(True, "name the voices enrolled with task=voices before the model reads")
        voices: Optional[str] = param(None, "the known voices' folder (default: ~/.local/share/taskdeck/voices)")
        index: bool = param(True, "add the minutes to the archive that task=ask answers from")
        archive: Optional[str] = param(None, "the archive (default: $TASKDECK_ARCHIVE, else outputs/archive.sqlite)")
        check: bool = param(True, "hold owners, due dates, decisions and the summary to the transcript")
        seed: Optional[int] = param(0, "random seed for the chat model")
        system_prompt: str = param(prompts.SYSTEM, "system prompt of the minutes writer")
        facts_prompt: str = param(prompts.FACTS, "pass 1: date, place, attendees, next meeting; {speakers}, {language}")
        actions_prompt: str = param(prompts.ACTIONS, "pass 2: action items with their lines; {roster}, {language}")
        decisions_prompt: str = param(prompts.DECISIONS, "pass 3: discussion and decisions; {roster}, {language}")
        summary_prompt: str = param(prompts.SUMMARY, "pass 4: the summary; {roster}, {facts}, {language}")
        translate_prompt: str = param(
            prompts.TRANSLATE, "translates a meeting into English, the minutes out of it; {source}, {target}, {texts}"
        )

    def run(self, params, ctx):
        template = templates.load(params.template)  # a wrong template fails before speech-to-text
        library = self._library(params)
        transcript, heard = self._transcript(params, ctx, library)
        kept = None  # the transcript, kept from now on: a stop during the passes loses no speech-to-text
        if ctx.run_dir is not None and params.audio:
            kept = _save_transcript(transcript, {}, Path(ctx.run_dir))
        try:
            minutes = self._write(transcript, heard, params, ctx, template)
        except KeyboardInterrupt:
            if kept is not None:
                print(f"the transcript is kept: task=minutes transcript={kept} skips speech-to-text", file=sys.stderr)
            raise
        if params.index:
            self._index(minutes, transcript, params, ctx)
        return minutes

    @staticmethod
    def index_run(run_dir: Path, archive: Path) -> int:
        """Add a minutes run made before (its directory) to the archive at ``archive`` (what
        ``task=ask add=`` calls, through the task registry); the meeting's id there."""
        from .archiving import index_run

        return index_run(run_dir, archive)

    def _index(self, minutes: Minutes, transcript: Transcript, params, ctx) -> None:
        """Add the minutes to the archive; a failure there is reported, the minutes stand."""
        import datetime as dt
        import sqlite3

        from taskdeck.helpers.archive import archive_path

        from .archiving import index_minutes

        path = archive_path(params.archive)
        run = str(Path(ctx.run_dir).resolve()) if ctx.run_dir is not None else f"{minutes.source}@{dt.datetime.now()}"
        try:
            meeting = index_minutes(minutes.to_dict(), transcript, path, run)
        except (OSError, sqlite3.Error, TaskdeckError) as exc:
            print(f"the minutes were not added to the archive {path}: {exc}", file=sys.stderr)
            return
        ctx.metrics["archive"] = {"path": str(path), "meeting": meeting}

    def _write(self, transcript: Transcript, heard: Heard, params, ctx, template: Template) -> Minutes:
        """Minutes of the transcript: the passes, the checks, the summary."""
        from taskdeck.helpers.voices import write_run_voices

        from .checks import (
            check_action_items,
            check_dates,
            check_decisions,
            check_people_and_dates,
            check_points,
            check_summary,
        )
        from .evidence import numbered_lines
        from .passes import Writer
        from .speakers import check_known_voices
        from .translation import minutes_texts, translate_in_place

        spoken = params.language or transcript.language or "en"
        lines = numbered_lines(transcript, "en" if transcript.language == "en" else spoken)
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
        writer = Writer(backend, params, ctx, template)
        translated = []
        with ctx.watch.time("llm"):
            if transcript.language != "en" and not _english(spoken):  # the checks read English
                lines = self._lines_in_english(writer, transcript, spoken)
                translated.append(
                    f"the transcript was translated from {language_name(spoken)} into English by "
                    f"{params.llm.model} before the minutes were made; evidence quotes the English"
                )
            data = self._passes(writer, lines, params)
            checks = [*translated, *_known_notes(heard), *writer.notes]
            if params.audio and params.diarize is None and not heard.diarizer:
                checks.append(self._no_diarizer(params, ctx))
            if heard.known:
                names = {m.name: label for label, m in heard.known.items()}
                heard.doubted = check_known_voices(lines, names, [a["name"] for a in data["attendees"]])
                checks += [note for notes in heard.doubted.values() for note in notes]
                data["speakers"] = {**{label: m.name for label, m in heard.known.items()}, **data["speakers"]}
            if params.check:
                doubted = {heard.known[label].name for label in heard.doubted}
                checks += check_people_and_dates(data, lines, doubted)
                checks += check_action_items(data, lines)
                checks += check_decisions(data, lines)
                checks += check_points(data, lines, {name: template.heading(name) for name in data["lists"]})
                checks += check_dates(data, lines)
            else:
                _as_checked(data)
            summary = writer.summary(data, _facts_text(data, template)) if template.shows("summary") else ""
            if params.check and summary:
                summary, notes = check_summary(summary, data, lines)
                checks += notes
            target = params.summary_language or spoken
            if not _english(target):
                held = {"text": summary}
                places = minutes_texts(data, held, template.extra_fields)
                translate_in_place(places, lambda texts: writer.translate(texts, "English", language_name(target)))
                summary = held["text"]
        ctx.metrics["llm_s"] = round(ctx.watch.spans.get("llm", 0.0), 3)
        ctx.metrics["passes"] = writer.timings
        ctx.metrics["lines_read"] = {"transcript": len(lines), **writer.read}
        if ctx.run_dir is not None:
            atomic_write_json(Path(ctx.run_dir) / "minutes.passes.json", writer.answers)
        ctx.metrics.update(items=1, chunks=data["chunks"], audio_s=round(transcript.duration, 2))
        ctx.metrics["diarization"] = heard.diarizer or "none"
        if ctx.run_dir is not None and params.audio:
            _save_transcript(transcript, data["speakers"], Path(ctx.run_dir))
            if heard.prints:
                write_run_voices(
                    Path(ctx.run_dir),
                    heard.prints,
                    data["speakers"],
                    model=heard.diarizer,
                    source=params.audio,
                    doubted=set(heard.doubted),
                )
        models = {"speech-to-text": params.asr.model} if params.audio else {}
        if heard.diarizer:
            models["speakers"] = heard.diarizer
        models["minutes"] = params.llm.model
        if not _english(target):
            models["translation"] = params.llm.model
        minutes = _minutes(data, summary, checks, transcript, models, template)
        minutes.language = languages.iso_of(target)
        return minutes

    # ---- stages ----
    def _library(self, params) -> Optional[VoiceLibrary]:
        """The known voices (read before anything loads: a broken library fails at once)."""
        if not params.known_voices or not params.audio:
            return None
        from taskdeck.helpers.voices import VoiceLibrary, library_folder

        return VoiceLibrary(library_folder(params.voices))

    def _transcript(self, params, ctx, library: Optional[VoiceLibrary]) -> tuple[Transcript, Heard]:
        """The transcript and its voices: the diarizer that labelled its speakers ("" when none
        did), their voiceprints, and the known voices among them (renamed in the transcript)."""
        from taskdeck.helpers.transcripts import read_transcript, transcribe_audio

        if bool(params.audio) == bool(params.transcript):
            raise InputError(
                "task 'minutes' needs audio=<recording> or transcript=<file> (one of them): "
                "add audio=meeting.mp3 to the command"
            )
        if params.transcript:
            if params.diarize:
                raise InputError("diarize=true needs audio=<recording>: a transcript file has no voices to tell apart")
            return read_transcript(params.transcript), Heard("")
        diarizer = self._diarizer(params, ctx)
        transcript = transcribe_audio(
            ctx,
            params.audio,
            model=params.asr.model,  # timed as "asr"
            backend=params.asr.backend,
            language=params.language,
            translate=not _english(params.language),  # speech in another language, written in English
            beam_size=params.asr.beam_size,
            vad_filter=params.asr.vad_filter,
            batch_size=params.asr.batch_size,
            word_timestamps=bool(diarizer),  # speakers change between words
        )
        if not _english(params.language):
            transcript.language = "en"  # Whisper wrote it in English
        ctx.metrics["asr_s"] = round(ctx.watch.spans.get("asr", 0.0), 3)
        heard = Heard(diarizer)
        if diarizer and transcript.segments:
            from taskdeck.helpers.audio import load_audio

            waveform = load_audio(params.audio)  # decoded once for the turns and the voiceprints
            turns = diarize_transcript(
                ctx,
                transcript,
                waveform,
                model=diarizer,
                speakers=params.speakers,
                threshold=params.speaker_threshold,
            )
            ctx.metrics["diarize_s"] = round(ctx.watch.spans.get("diarize", 0.0), 3)
            for seg in transcript.segments:
                seg.words = []
            heard = self._voices(ctx, params, waveform, turns, transcript, library, diarizer)
        return transcript, heard

    def _voices(self, ctx, params, waveform, turns, transcript: Transcript, library, diarizer: str) -> Heard:
        """Each speaker's voiceprint; the known voices among them named in the transcript."""
        from taskdeck.helpers.voices import recognise, voiceprints_of

        backend = diarizer_model(ctx, diarizer, threshold=params.speaker_threshold)
        with ctx.watch.time("voices"):
            prints = voiceprints_of(backend, waveform, turns)
        heard = Heard(diarizer, prints)
        if library is not None and library.profiles and prints:
            heard.folder = str(library.folder)
            heard.known = recognise(prints, list(library.profiles.values()), model=diarizer)
            for seg in transcript.segments:
                if seg.speaker in heard.known:
                    seg.speaker = heard.known[seg.speaker].name
        return heard

    def _diarizer(self, params, ctx) -> str:
        """The diarization model to use: the one named when ``diarize=true``; with
        ``diarize=null``, the pack when it and its backend are installed."""
        if params.diarize is False:
            return ""
        if params.diarize:
            return params.diarizer
        pack = ctx.catalog.packs.get(params.diarizer)
        if pack is None:
            return params.diarizer  # a path or Hub id: asked for by name
        if pack.installed() and any(b.missing_package() is None for b in pack_diarizers(ctx, params.diarizer).values()):
            return params.diarizer
        return ""

    def _no_diarizer(self, params, ctx) -> str:
        """Why the voices were not told apart, and what to install."""
        pack = ctx.catalog.packs.get(params.diarizer)
        hint = pack.install_hint() if pack is not None else "install it"
        return f"voices not told apart: the diarizer '{params.diarizer}' is not installed ({hint})"

    def _lines_in_english(self, writer: Writer, transcript: Transcript, spoken: str) -> list[Line]:
        """The transcript's numbered lines, each segment translated into English by the chat model."""
        from .evidence import numbered_lines
        from .translation import translate_in_place

        said = [{"text": seg.text} for seg in transcript.segments]
        places = [(s, "text") for s in said if s["text"].strip()]
        translate_in_place(places, lambda texts: writer.translate(texts, language_name(spoken), "English"))
        for seg, text in zip(transcript.segments, said):
            seg.text = text["text"]
        transcript.language = "en"
        return numbered_lines(transcript, "en")

    def _passes(self, writer: Writer, lines: list[Line], params) -> dict:
        from taskdeck.helpers.structured import StructuredOutputError

        try:
            return writer.write(lines)
        except StructuredOutputError as exc:
            where = ""
            if writer.ctx.run_dir is not None:
                raw = atomic_write_text(Path(writer.ctx.run_dir) / "minutes.raw.txt", exc.raw)
                where = f"; its raw answer is in {raw}"
            raise TaskdeckError(
                f"the model '{params.llm.model}' did not produce valid minutes "
                f"({exc}){where}; try more retries (llm.retries=), a larger model (llm.model=), "
                f"or a server that honours response_format"
            ) from None


def _known_notes(heard: Heard) -> list[str]:
    """What the known voices named, for the checks."""
    if not heard.known:
        return []
    named = ", ".join(f"{label} is {m.name} ({m.similarity:.2f})" for label, m in heard.known.items())
    return [f"known voices (similarity to the voice enrolled, {heard.folder}): {named}"]


def _english(language: Optional[str]) -> bool:
    return languages.iso_of(language, default="en") == "en"


def language_name(code: Optional[str]) -> str:
    """A language name for the prompt (``de`` → German); names pass through."""
    return languages.name_of(code)


def _as_checked(data: dict) -> None:
    """check=false: the model's items as given, in the shape the checks produce."""
    data["action_items"] = [
        {**{k: v for k, v in a.items() if k != "line"}, "evidence": ""} for a in data["action_items"]
    ]
    data["decisions"] = [{"text": d["decision"], "evidence": ""} for d in data["decisions"]]
    data["lists"] = {name: [{"text": p["point"], "evidence": ""} for p in got] for name, got in data["lists"].items()}


def _facts_text(data: dict, template: Template) -> str:
    """The checked lists, as the summary pass reads them."""
    from .checks import stated

    out = ["Checked facts of this meeting:"]
    for name, points in data["lists"].items():
        if points:
            out.append(f"{template.heading(name)}:\n" + "\n".join(f"- {p['text']}" for p in points))
    if data["decisions"]:
        out.append("Decisions:\n" + "\n".join(f"- {d['text']}" for d in data["decisions"]))
    if data["action_items"]:
        items = [
            f"- {a['owner'] if stated(a['owner']) else 'Someone'} will {a['task'][:1].lower()}{a['task'][1:]}"
            + (f" (due {a['due']})" if stated(a["due"]) else "")
            for a in data["action_items"]
        ]
        out.append("Action items (to do):\n" + "\n".join(items))
    if stated(data.get("next_meeting")):
        out.append(f"Next meeting: {data['next_meeting']}")
    return "\n".join(out) + "\n\n" if len(out) > 1 else ""


def _save_transcript(transcript: Transcript, speakers: dict[str, str], run_dir: Path) -> Path:
    """``transcript.txt`` (a line per turn, ``[mm:ss] Name: words`` when speakers are known) and
    ``transcript.json`` (segments, with the names found for the voices); returns the JSON's path."""
    for seg in transcript.segments:
        if seg.speaker in speakers:
            seg.speaker = f"{speakers[seg.speaker]} ({seg.speaker})"
    text = []
    for seg in transcript.segments:
        who = f"{seg.speaker}: " if seg.speaker else ""
        if seg.text.strip():
            text.append(f"[{_stamp(seg.start)}] {who}{' '.join(seg.text.split())}")
    atomic_write_text(run_dir / "transcript.txt", "\n".join(text) + "\n")
    return atomic_write_json(run_dir / "transcript.json", transcript.to_dict())


def _stamp(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def _minutes(
    data: dict, summary: str, checks: list[str], transcript: Transcript, models: dict, template: Template
) -> Minutes:
    from .checks import stated
    from .result import ActionItem, Attendee, Decision, Minutes, Point
    from .schema import NOT_STATED

    def text(key: str) -> str:
        value = str(data.get(key) or "").strip()
        return value if stated(value) else NOT_STATED

    return Minutes(
        title=text("title") if stated(data.get("title")) else "Meeting minutes",
        date=text("date"),
        location=text("location"),
        attendees=[
            Attendee(a["name"].strip(), a["role"].strip() if stated(a.get("role")) else NOT_STATED)
            for a in data["attendees"]
        ],
        executive_summary=summary.strip(),
        discussion_points=[str(x).strip() for x in data["discussion_points"] if str(x).strip()],
        decisions=[Decision(d["text"], d.get("evidence", "")) for d in data["decisions"]],
        action_items=[
            ActionItem(
                a["owner"] if stated(a["owner"]) else NOT_STATED,
                a["task"],
                a["due"] if stated(a["due"]) else NOT_STATED,
                a.get("evidence", ""),
                {k: str(a.get(k) or NOT_STATED) for k in template.extra_fields},
            )
            for a in data["action_items"]
        ],  # fmt: skip
        next_meeting=text("next_meeting"),
        speakers=dict(data["speakers"]),
        checks=checks,
        source=transcript.source,
        duration=transcript.duration,
        language=transcript.language,
        chunks=data["chunks"],
        models=models,
        template=template.name,
        sections=[(s, template.heading(s)) for s in template.sections],
        columns=template.columns(),
        points={name: [Point(p["text"], p.get("evidence", "")) for p in got] for name, got in data["lists"].items()},
    )


@hookimpl
def register_tasks(register):
    register(MinutesTask)
