"""``task=summarization``: a faithful summary of a text of any length.

Two paths, chosen by what the model is:

- a seq2seq summarizer (``model=`` names an encoder-decoder such as BART, Pegasus or T5):
  ``model.generate`` with beam search. T5-style models get the input prefix their config
  names (``task_specific_params.summarization.prefix``, e.g. ``summarize: ``) unless
  ``prefix=`` is given. Method ``seq2seq``.
- a chat model (the default, ``qwen2.5-coder-1.5b``): a prompt asking for a faithful summary
  that adds nothing the text does not say; ``length=`` sets how long. Method ``chat``.

Texts longer than the model's window are never truncated. They are cut on sentence
boundaries into chunks that fit (the window minus the prefix, or for a chat model minus the
prompt and the answer), each chunk is summarized, and the partial summaries are summarized
together (map-reduce); if the partial summaries still do not fit, they are chunked and
summarized again, level by level. ``result.json`` records ``chunks`` (first-level chunks)
and ``levels`` (map steps before the final summary). The chunks of a level are independent:
a chat model gets them (and in a batch, every text's calls of the level) in one
``chat_batch``, which llama.cpp decodes together.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import (
    CHAT,
    SEQ2SEQ,
    Completion,
    ConfigError,
    Generated,
    InputError,
    Task,
    hookimpl,
    param,
    required,
    route,
)
from taskdeck.evaluation import SUMMARY
from taskdeck.helpers.text_chunks import chunk_sentences, split_sentences

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
#: Length phrases for the chat prompt. Small chat models asked for "three to five sentences"
#: tend to copy the text sentence by sentence; "one sentence" and a word cap "in your own
#: words" make them condense (tried on qwen2.5-coder-1.5b).
LENGTHS = {
    "short": "in one sentence",
    "medium": "in your own words, in one paragraph of at most 60 words",
    "long": "in your own words, in one or two paragraphs of at most 150 words",
}
SYSTEM = "You write concise, faithful summaries. Use only facts stated in the text; never add or invent anything."
PROMPT = "Summarize the text below {length}.\n\nText:\n{text}"
PART_PROMPT = "The text below is one part of a longer document. Summarize this part {length}.\n\nText:\n{text}"
MERGE_PROMPT = (
    "Below are summaries of the consecutive parts of one document, in order. Write one summary of "
    "the whole document {length}, covering every part. Use only facts stated in them.\n\n{text}"
)
PART_LENGTH = LENGTHS["medium"]
TEMPLATE_TOKENS = 32  # what a chat template adds around the messages (role markers), with margin
MIN_CHUNK_TOKENS = 64  # a chat window leaving less room than this per chunk cannot summarize
MAX_LEVELS = 8


class SummarizationTask(Task):
    name = "summarization"
    description = "summarize a text of any length: a seq2seq summarizer, or a chat model (map-reduce over chunks)"

    @dataclass
    class Params:
        text: str = required("the text to summarize")
        model: str = param(
            DEFAULT_MODEL, "model pack alias, local path or Hub id (a seq2seq summarizer for the dedicated path)"
        )
        max_new_tokens: int = param(256, "most tokens of the summary (and of each partial summary)", ge=1)
        min_new_tokens: Optional[int] = param(None, "fewest tokens of the summary (seq2seq models)", ge=0)
        num_beams: int = param(4, "beam search width for seq2seq models (chat models decode greedily)", ge=1)
        length: str = param(
            "medium",
            "chat models: short (one sentence), medium (a paragraph of <= 60 "
            "words), long (<= 150 words) or a number of sentences; seq2seq "
            "models use max/min_new_tokens",
        )
        prefix: str = param(
            "",
            "text put before the input for seq2seq models (default: the model config's "
            "summarization prefix, e.g. T5's 'summarize: ')",
        )
        stream: bool = param(True, "chat models: print the summary as it is generated")

    eval_metric = SUMMARY
    chunk_size = 64  # texts summarized together, level by level

    def for_batch(self, params, ctx):
        return dataclasses.replace(params, stream=False)

    def prepare(self, params) -> str:
        text = _text(params)
        length_instruction(params.length)  # a bad length= fails before the model loads
        return text

    @route(SEQ2SEQ, batched=True)
    def forward(self, backend, items, params, ctx):
        """Every text's chunks go through ``seq2seq`` together, level by level."""
        return Seq2SeqSummarizer(backend, params, ctx).summarize(items)

    @route(CHAT, batched=True)
    def summarize_by_chat(self, backend, items, params, ctx):
        """The same map-reduce through ``chat_batch``; one text alone is streamed as it is written."""
        streaming = len(items) == 1 and params.stream and not ctx.quiet
        return ChatSummarizer(backend, params, length_instruction(params.length), ctx).summarize(items, streaming)


def _text(params) -> str:
    text = params.text.strip() if isinstance(params.text, str) else ""
    if not text:
        raise InputError('text= is empty: give the text to summarize, e.g. text="$(cat article.txt)"')
    return text


def length_instruction(length: Any) -> str:
    """The chat prompt's length phrase for ``length=`` (short/medium/long or a sentence count)."""
    value = str(length).strip().lower()
    if value in LENGTHS:
        return LENGTHS[value]
    if value.isdigit() and int(value) > 0:
        n = int(value)
        return "in one sentence" if n == 1 else f"in your own words, in at most {n} sentences"
    raise ConfigError(f"length={length} is not a length: use short, medium, long or a number of sentences")


# ---- seq2seq: map-reduce over every text at once, level by level ----
class Seq2SeqSummarizer:
    def __init__(self, backend, params, ctx):
        self.backend, self.params, self.ctx = backend, params, ctx
        configured = backend.seq2seq_info().task_prefixes.get("summarization")
        self.prefix = params.prefix or configured or ""
        self.window = backend.context_window()
        if self.count([""])[0] >= self.window:
            raise ConfigError(f"prefix='{self.prefix}' leaves no room in the model's {self.window}-token window")

    def count(self, texts: list[str]) -> list[int]:
        return [self.backend.count_tokens(self.prefix + t) for t in texts]

    def generate(self, texts: list[str], desc: str) -> list[Completion]:
        p = self.params
        return self.backend.seq2seq(
            [self.prefix + t for t in texts],
            max_new_tokens=p.max_new_tokens,
            min_new_tokens=p.min_new_tokens,
            num_beams=p.num_beams,
            progress=lambda it: self.ctx.progress(it, total=len(it), desc=desc),
        )

    def summarize(self, texts: list[str]) -> list[Any]:
        """A Generated (or the InputError that stopped it) per text."""
        n = len(texts)
        current = list(texts)
        done: list[Any] = [None] * n
        calls: list[list[Completion]] = [[] for _ in range(n)]
        chunks, levels = [1] * n, [0] * n
        pending = list(range(n))
        while pending:
            sizes = dict(zip(pending, self.count([current[i] for i in pending])))
            jobs: list[tuple[int, list[str]]] = []
            for i in pending:
                if sizes[i] <= self.window:
                    jobs.append((i, [current[i]]))  # fits: the final summary
                elif levels[i] >= MAX_LEVELS:
                    done[i] = InputError(
                        f"the text did not fit the model's window after {MAX_LEVELS} levels of "
                        "summaries: lower max_new_tokens"
                    )
                else:
                    parts = chunk_sentences(split_sentences(current[i]), lambda t: self.count([t])[0], self.window)
                    if levels[i] == 0:
                        chunks[i] = len(parts)
                    jobs.append((i, parts))
            flat = [t for _, parts in jobs for t in parts]
            desc = "summarizing" if all(len(parts) == 1 for _, parts in jobs) else "summarizing chunks"
            outputs = iter(self.generate(flat, desc) if flat else [])
            pending = []
            for i, parts in jobs:
                gens = [next(outputs) for _ in parts]
                calls[i] += gens
                if sizes[i] <= self.window:
                    done[i] = self._result(texts[i], gens[0], calls[i], chunks[i], levels[i])
                    continue
                merged = " ".join(g.text for g in gens if g.text)
                if not merged or self.count([merged])[0] >= sizes[i]:
                    done[i] = InputError(
                        f"the partial summaries ({self.count([merged])[0]} tokens) are no shorter than the text "
                        f"({sizes[i]} tokens): lower max_new_tokens (now {self.params.max_new_tokens}) below "
                        f"the model's {self.window}-token window"
                    )
                    continue
                current[i], levels[i] = merged, levels[i] + 1
                pending.append(i)
        ok = [k for k, d in enumerate(done) if not isinstance(d, Exception)]
        count_chunks(self.ctx, [chunks[k] for k in ok], [levels[k] for k in ok])
        return done

    def _result(self, source, final, gens, chunks, levels) -> Generated:
        method = "seq2seq" if chunks == 1 else f"seq2seq map-reduce ({chunks} chunks, {levels + 1} levels)"
        return _generated(source, final, gens, method, self.ctx)


# ---- chat: the same map-reduce, each level's calls together ----
class ChatSummarizer:
    def __init__(self, backend, params, length: str, ctx):
        self.backend, self.params, self.length, self.ctx = backend, params, length, ctx
        count, window = backend.count_tokens, backend.context_window()
        overhead = count(SYSTEM) + max(
            count(p.format(text="", length=length)) for p in (PROMPT, PART_PROMPT, MERGE_PROMPT)
        )
        self.budget = window - overhead - TEMPLATE_TOKENS - params.max_new_tokens
        if self.budget < MIN_CHUNK_TOKENS:
            raise ConfigError(
                f"max_new_tokens={params.max_new_tokens} leaves too little of the model's {window}-token "
                "window for the text: lower max_new_tokens or raise backend.n_ctx"
            )

    def summarize(self, texts: list[str], streaming: bool) -> list[Any]:
        """A Generated (or the InputError that stopped it) per text. ``streaming``: one text,
        its final summary printed as it is generated."""
        count, n = self.backend.count_tokens, len(texts)
        current, levels, chunks = list(texts), [0] * n, [1] * n
        calls: list[list[Completion]] = [[] for _ in range(n)]
        done: list[Any] = [None] * n
        pending = list(range(n))
        while pending:
            jobs: list[tuple[int, int, list[str]]] = []  # (text, its size, prompts)
            for i in pending:
                size = count(current[i])
                if size <= self.budget:
                    prompt = PROMPT if levels[i] == 0 else MERGE_PROMPT
                    jobs.append((i, size, [prompt.format(text=current[i], length=self.length)]))
                elif levels[i] >= MAX_LEVELS:
                    done[i] = InputError(
                        f"the text did not fit the model's window after {MAX_LEVELS} levels of summaries: "
                        "lower max_new_tokens or raise backend.n_ctx"
                    )
                else:
                    parts = chunk_sentences(split_sentences(current[i]), count, self.budget)
                    if levels[i] == 0:
                        chunks[i] = len(parts)
                    jobs.append((i, size, [PART_PROMPT.format(text=p, length=PART_LENGTH) for p in parts]))
            if not jobs:
                break
            final = len(jobs) == 1 and jobs[0][1] <= self.budget  # one text's last call: may be streamed
            gens = iter(self._ask([p for _, _, prompts in jobs for p in prompts], streaming and final))
            pending = []
            for i, size, prompts in jobs:
                answers = [next(gens) for _ in prompts]
                calls[i] += answers
                if size <= self.budget:
                    done[i] = self._result(texts[i], answers[0], calls[i], chunks[i], levels[i], streaming)
                    continue
                partials = (g.text for g in answers if g.text)
                merged = "\n\n".join(f"Part {k}: {p}" for k, p in enumerate(partials, 1))
                if not merged or count(merged) >= size:
                    done[i] = InputError(
                        f"the partial summaries are no shorter than the text ({size} tokens): "
                        f"lower max_new_tokens (now {self.params.max_new_tokens})"
                    )
                    continue
                current[i], levels[i] = merged, levels[i] + 1
                pending.append(i)
        ok = [k for k, d in enumerate(done) if not isinstance(d, Exception)]
        count_chunks(self.ctx, [chunks[k] for k in ok], [levels[k] for k in ok])
        return done

    def _ask(self, prompts: list[str], stream: bool) -> list[Completion]:
        """One level's calls, together (``stream``: the one call, printed as it is generated)."""
        conversations = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": p}] for p in prompts]
        max_new = self.params.max_new_tokens
        if len(prompts) == 1:
            emit = self.ctx.emit if stream else None
            gens = [self.backend.chat(conversations[0], max_new_tokens=max_new, temperature=0.0, stream=emit)]
        else:
            with self.ctx.progress(None, total=len(prompts), desc=f"summarizing {len(prompts)} chunks") as bar:
                gens = self.backend.chat_batch(
                    conversations, max_new_tokens=max_new, temperature=0.0, on_done=lambda _: bar.update(1)
                )
        for gen in gens:
            gen.text = gen.text.strip()
        return gens

    def _result(
        self, source: str, final: Completion, calls: list[Completion], chunks: int, level: int, streaming: bool
    ):
        if streaming:
            self.ctx.emit("\n")
            print(f"[{final.completion_tokens} tokens, {final.tokens_per_second:.1f} tokens/s]", file=sys.stderr)
        method = "chat" if chunks == 1 else f"chat map-reduce ({chunks} chunks, {level + 1} levels)"
        result = _generated(source, final, calls, f"{method} on {self.backend.name}", self.ctx)
        result.streamed = streaming
        return result


def count_chunks(ctx, chunks: list[int], levels: list[int]) -> None:
    """Add the texts' chunks to the run's ``chunks`` and keep its deepest ``levels``: a batch
    counts every forward call's texts, not the last call's."""
    ctx.metrics["chunks"] = ctx.metrics.get("chunks", 0) + sum(chunks)
    ctx.metrics["levels"] = max(ctx.metrics.get("levels", 0), max(levels, default=0) + 1)


def _generated(source: str, final: Completion, calls: list[Completion], method: str, ctx) -> Generated:
    prompt_tokens = sum(g.prompt_tokens for g in calls)
    completion = sum(g.completion_tokens for g in calls)
    seconds = sum(g.seconds for g in calls)
    speed = round(completion / seconds, 2) if seconds > 0 else 0.0
    ctx.metrics.update(
        prompt_tokens=ctx.metrics.get("prompt_tokens", 0) + prompt_tokens,
        completion_tokens=ctx.metrics.get("completion_tokens", 0) + completion,
        tokens_per_s=speed,
        generate_calls=ctx.metrics.get("generate_calls", 0) + len(calls),
    )
    return Generated(
        text=final.text,
        source=source,
        method=method,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion,
        tokens_per_second=speed,
        finish_reason=final.finish_reason,
    )


@hookimpl
def register_tasks(register):
    register(SummarizationTask)
