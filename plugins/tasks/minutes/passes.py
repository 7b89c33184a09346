"""The minutes writer: focused passes over one transcript, each a small question.

One schema for everything at once is too much for a 1.5B model (it dropped action items and
copied discussion into decisions). So the model answers four short questions about the same
numbered transcript: the facts (date, place, attendees, next meeting, and a name per voice),
the action items, the decisions, then the summary from what those found. Every request starts
with the same system prompt and transcript; llama.cpp keeps the evaluated prefix, so the
transcript is read once and each later pass costs only its question and answer. A transcript
longer than ``llm.chunk_tokens`` (or the window) is cut between lines into chunks, each asked
for its action items and decisions (the facts: the first and last chunks, and any with new
voices), and the answers are merged; the summary then comes from the merged lists alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from taskdeck import ConfigError
from taskdeck.helpers.structured import chat_json

from . import prompts
from .checks import add_attendee, stated
from .evidence import Line
from .schema import DECISIONS_SCHEMA, NOT_STATED, actions_schema, facts_schema, points_schema, translation_schema
from .speakers import anonymous_labels, name_speakers
from .templates import Template

TEMPLATE_TOKENS = 64  # chat-template markers around the messages, with margin
QUESTION_TOKENS = 160  # the roster and facts a question carries, with margin
MIN_CHUNK_TOKENS = 256  # less room than this per chunk cannot make minutes
#: Small models decoding greedily can repeat one sentence inside a string until the answer is
#: cut off (seen with the 0.5B model); the tries after a failed one penalise repetition.
RETRY_REPETITION_PENALTY = 1.15
PASS_TOKENS = {"facts": 400, "action items": 1024, "decisions": 500, "summary": 200}
POINTS_TOKENS = 400  # a template's list (blockers, risks): short points


class Writer:
    """Asks ``backend`` the minutes' questions about numbered transcript lines."""

    def __init__(self, backend: Any, params: Any, ctx: Any, template: Template | None = None):
        self.backend, self.params, self.ctx = backend, params, ctx
        self.template = template or Template("default")
        self.notes: list[str] = []
        #: Each pass's answer as the model gave it, before the checks (``minutes.passes.json``).
        self.answers: list[dict] = []
        #: Seconds and tokens written per pass, summed over chunks (``result.json``).
        self.timings: dict[str, dict[str, float]] = {}
        #: Transcript lines each pass read, summed over chunks (``result.json``: all of them, or says so).
        self.read: dict[str, int] = {}
        self._transcript = ""  # the one chunk's transcript, which the summary reuses from the cache

    # ---- chunks ----
    def chunks(self, lines: Sequence[Line]) -> list[list[Line]]:
        """Lines packed into chunks that fit the window with the longest question."""
        count = self.backend.count_tokens
        p = self.params
        questions = (p.facts_prompt, self._actions_prompt(), p.decisions_prompt, self._summary_prompt(),
                     *(self._points_prompt(name) for name in self._lists()))  # fmt: skip
        fixed = (
            count(p.system_prompt)
            + max(count(q) for q in questions)
            + count(prompts.TRANSCRIPT + prompts.SPEAKERS + prompts.SPEAKERS_NOTE)
            + QUESTION_TOKENS
            + TEMPLATE_TOKENS
        )
        budget = self.backend.context_window() - fixed - min(p.llm.max_new_tokens, max(PASS_TOKENS.values()))
        if budget < MIN_CHUNK_TOKENS:
            raise ConfigError(
                f"the chat model's window ({self.backend.context_window()} tokens) leaves {max(budget, 0)} tokens "
                "for the transcript: raise llm.n_ctx or lower llm.max_new_tokens"
            )
        budget = min(budget, p.llm.chunk_tokens)  # chunk_tokens is at least MIN_CHUNK_TOKENS
        chunks: list[list[Line]] = []
        size = 0
        for line in lines:
            n = count(line.render()) + 1
            if chunks and size + n <= budget:
                chunks[-1].append(line)
                size += n
            else:
                chunks.append([line])
                size = n
        return chunks

    # ---- passes ----
    def write(self, lines: Sequence[Line]) -> dict:
        """Facts, speakers, action items, discussion, decisions and summary of the meeting."""
        chunks = self.chunks(lines)
        data: dict[str, Any] = {
            "title": NOT_STATED, "date": NOT_STATED, "location": NOT_STATED, "next_meeting": NOT_STATED,
            "attendees": [], "speakers": {}, "action_items": [], "discussion_points": [], "decisions": [],
            "lists": {},
        }  # fmt: skip
        for index, chunk in enumerate(chunks, 1):
            part = prompts.PART.format(index=index, total=len(chunks)) if len(chunks) > 1 else ""
            prefix = self._prefix(chunk, part)
            labels = [label for label in anonymous_labels(chunk) if label not in data["speakers"]]
            if index in (1, len(chunks)) or labels:  # the meeting's facts are said at its start and end
                facts = self._ask(prefix, self._question(self.params.facts_prompt, labels), facts_schema(labels),
                                  "facts")  # fmt: skip
                _merge_facts(data, facts)
                self.read["facts"] = self.read.get("facts", 0) + len(chunk)
            if labels:
                names, notes = name_speakers(facts.get("speakers", []), chunk, [a["name"] for a in data["attendees"]])
                data["speakers"].update({k: v for k, v in names.items() if k not in data["speakers"]})
                self.notes += notes
            roster = _roster(data["speakers"])
            shown = self.template.shows
            if shown("action_items"):
                actions = self._ask(prefix, self._question(self._actions_prompt(), roster=roster),
                                    actions_schema(self.template.extra_fields), "action items")  # fmt: skip
                data["action_items"] += actions["action_items"]
                self.read["action items"] = self.read.get("action items", 0) + len(chunk)
            if shown("decisions", "discussion_points"):
                found = self._ask(prefix, self._question(self.params.decisions_prompt, roster=roster),
                                  DECISIONS_SCHEMA, "decisions")  # fmt: skip
                data["discussion_points"] += found["discussion_points"]
                data["decisions"] += found["decisions"]
                self.read["decisions"] = self.read.get("decisions", 0) + len(chunk)
            for name in self._lists():
                most = self.template.lists[name].most
                found = self._ask(prefix, self._question(self._points_prompt(name), roster=roster),
                                  points_schema(most), name)  # fmt: skip
                data["lists"].setdefault(name, []).extend(found["points"])
                self.read[name] = self.read.get(name, 0) + len(chunk)
        data["chunks"] = len(chunks)
        self._transcript = self._prefix(chunks[0], "")[1]["content"] if len(chunks) == 1 else ""
        return data

    def summary(self, data: dict, facts: str) -> str:
        """The executive summary, from the transcript (one chunk) and the checked lists."""
        question = self._question(self._summary_prompt(), roster=_roster(data["speakers"]), facts=facts)
        messages = [
            {"role": "system", "content": self.params.system_prompt},
            {"role": "user", "content": self._transcript + question},
        ]
        bar = self.ctx.progress(None, desc="minutes: summary", unit="tok", leave=True)
        start = time.perf_counter()
        gen = self.backend.chat(
            messages,
            max_new_tokens=min(self.params.llm.max_new_tokens, PASS_TOKENS["summary"]),
            temperature=self.params.llm.temperature,
            seed=self.params.seed,
            stream=lambda piece: bar.update(1),
        )
        bar.close()
        self._timed("summary", start, gen.completion_tokens)
        text = gen.text.strip()
        self.answers.append({"pass": "summary", "answer": text})
        return text

    # ---- the template's questions ----
    def _lists(self) -> list[str]:
        return [s for s in self.template.sections if s in self.template.lists]

    def _actions_prompt(self) -> str:
        extra = self.template.extra_fields
        if not extra:
            return self.params.actions_prompt
        fields = prompts.FIELDS.format(fields=", ".join(extra))
        prompt = self.params.actions_prompt
        return prompt.replace("{language}", fields + "{language}") if "{language}" in prompt else prompt + fields

    def _summary_prompt(self) -> str:
        """The template's summary question where it has one and the summary prompt was not set."""
        if self.template.summary_prompt and self.params.summary_prompt == prompts.SUMMARY:
            return self.template.summary_prompt
        return self.params.summary_prompt

    def _points_prompt(self, name: str) -> str:
        question = self.template.lists[name].question.replace("{", "{{").replace("}", "}}")
        return prompts.POINTS.format(question=question)

    # ---- requests ----
    def _prefix(self, chunk: Sequence[Line], part: str) -> list[dict]:
        note = prompts.SPEAKERS_NOTE if anonymous_labels(chunk) else ""
        text = prompts.TRANSCRIPT.format(
            part=part, speakers_note=note, transcript="\n".join(line.render() for line in chunk)
        )
        return [{"role": "system", "content": self.params.system_prompt}, {"role": "user", "content": text}]

    def _question(self, template: str, labels: Sequence[str] = (), roster: str = "", facts: str = "") -> str:
        # minutes are made in English (translation.py); {language} stays a slot user prompts may hold
        return template.format(speakers=prompts.SPEAKERS if labels else "", roster=roster, facts=facts, language="")

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """``texts`` from ``source`` into ``target`` (language names), in one request."""
        numbered = "\n".join(f"{i}. {' '.join(t.split())}" for i, t in enumerate(texts, 1))
        question = self.params.translate_prompt.format(source=source, target=target, texts=numbered)
        messages = [{"role": "system", "content": prompts.TRANSLATOR}, {"role": "user", "content": question}]
        most = 2 * self.backend.count_tokens(numbered) + 16 * len(texts) + 32
        answer = self._request(messages, translation_schema(len(texts)), "translation", most)
        return [str(t) for t in answer["texts"]]

    def _ask(self, prefix: list[dict], question: str, schema: dict, name: str) -> dict:
        messages = [prefix[0], {"role": "user", "content": prefix[1]["content"] + question}]
        return self._request(messages, schema, name, PASS_TOKENS.get(name, POINTS_TOKENS))

    def _request(self, messages: list[dict], schema: dict, name: str, most_tokens: int) -> dict:
        p = self.params
        bar = self.ctx.progress(None, desc=f"minutes: {name}", unit="tok", leave=True)
        start = time.perf_counter()
        written = [0]

        def stream(piece: str) -> None:
            written[0] += 1
            bar.update(1)

        try:
            answer = chat_json(
                self.backend,
                messages,
                schema,
                retries=p.llm.retries,
                max_new_tokens=min(p.llm.max_new_tokens, most_tokens),
                temperature=p.llm.temperature,
                seed=p.seed,
                stream=stream,
                retry_options=None if self.backend.remote else {"repetition_penalty": RETRY_REPETITION_PENALTY},
            )  # APIs may reject the key
        finally:
            bar.close()
            self._timed(name, start, written[0])
        self.answers.append({"pass": name, "answer": answer})
        return answer

    def _timed(self, name: str, start: float, tokens: float) -> None:
        entry = self.timings.setdefault(name, {"s": 0.0, "tokens": 0})
        entry["s"] = round(entry["s"] + time.perf_counter() - start, 2)
        entry["tokens"] += int(tokens)


def _roster(speakers: dict[str, str]) -> str:
    if not speakers:
        return ""
    return "Voices: " + "; ".join(f"{label} is {name}" for label, name in speakers.items()) + ".\n"


def _merge_facts(data: dict, facts: dict) -> None:
    for key in ("title", "date", "location", "next_meeting"):
        if not stated(data.get(key)) and stated(facts.get(key)):
            data[key] = str(facts[key]).strip()
        elif key == "next_meeting" and stated(facts.get(key)):
            data[key] = str(facts[key]).strip()  # a later part of the meeting says it last
    for person in facts.get("attendees", []):
        add_attendee(data["attendees"], person)
