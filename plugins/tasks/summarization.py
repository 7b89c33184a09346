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
from taskdeck.helpers.chunked import LevelledSummaries, generated
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
        return ChatSummarizer(backend, params, length_instruction(params.length), ctx, streaming).summarize(items)


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
class Seq2SeqSummarizer(LevelledSummaries):
    def __init__(self, backend, params, ctx):
        super().__init__(ctx)
        self.backend, self.params = backend, params
        configured = backend.seq2seq_info().task_prefixes.get("summarization")
        self.prefix = params.prefix or configured or ""
        self.window = backend.context_window()
        self.advice = f"lower max_new_tokens (now {params.max_new_tokens}) below the model's {self.window}-token window"
        if self.size("") >= self.window:
            raise ConfigError(f"prefix='{self.prefix}' leaves no room in the model's {self.window}-token window")

    def size(self, text: str) -> int:
        return self.backend.count_tokens(self.prefix + text)

    def fits(self, size: int) -> bool:
        return size <= self.window

    def split(self, text: str) -> list[str]:
        return chunk_sentences(split_sentences(text), self.size, self.window)

    def call(self, inputs: list[str], final: bool) -> list[Completion]:
        p = self.params
        return self.backend.seq2seq(
            [self.prefix + t for t in inputs],
            max_new_tokens=p.max_new_tokens,
            min_new_tokens=p.min_new_tokens,
            num_beams=p.num_beams,
            progress=lambda it: self.ctx.progress(it, total=len(it), desc="summarizing"),
        )

    def result(self, source, final, calls, chunks, level) -> Generated:
        method = "seq2seq" if chunks == 1 else f"seq2seq map-reduce ({chunks} chunks, {level + 1} levels)"
        return generated(source, final.text, calls, method, self.ctx)


# ---- chat: the same map-reduce, each level's calls together ----
class ChatSummarizer(LevelledSummaries):
    def __init__(self, backend, params, length: str, ctx, streaming: bool):
        super().__init__(ctx)
        self.backend, self.params, self.length, self.streaming = backend, params, length, streaming
        count, window = backend.count_tokens, backend.context_window()
        overhead = count(SYSTEM) + max(
            count(p.format(text="", length=length)) for p in (PROMPT, PART_PROMPT, MERGE_PROMPT)
        )
        self.budget = window - overhead - TEMPLATE_TOKENS - params.max_new_tokens
        self.advice = f"lower max_new_tokens (now {params.max_new_tokens}) or raise backend.n_ctx"
        if self.budget < MIN_CHUNK_TOKENS:
            raise ConfigError(
                f"max_new_tokens={params.max_new_tokens} leaves too little of the model's {window}-token "
                "window for the text: lower max_new_tokens or raise backend.n_ctx"
            )

    def size(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def fits(self, size: int) -> bool:
        return size <= self.budget

    def split(self, text: str) -> list[str]:
        return chunk_sentences(split_sentences(text), self.size, self.budget)

    def whole(self, text: str, level: int) -> str:
        return (PROMPT if level == 0 else MERGE_PROMPT).format(text=text, length=self.length)

    def part(self, chunk: str) -> str:
        return PART_PROMPT.format(text=chunk, length=PART_LENGTH)

    def merge(self, summaries: list[str]) -> str:
        return "\n\n".join(f"Part {k}: {p}" for k, p in enumerate(summaries, 1))

    def call(self, inputs: list[str], final: bool) -> list[Completion]:
        """One level's calls, together (one text's last call alone is printed as it is generated
        when the run streams)."""
        conversations = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": p}] for p in inputs]
        max_new = self.params.max_new_tokens
        if len(inputs) == 1:
            emit = self.ctx.emit if self.streaming and final else None
            gens = [self.backend.chat(conversations[0], max_new_tokens=max_new, temperature=0.0, stream=emit)]
        else:
            with self.ctx.progress(None, total=len(inputs), desc=f"summarizing {len(inputs)} chunks") as bar:
                gens = self.backend.chat_batch(
                    conversations, max_new_tokens=max_new, temperature=0.0, on_done=lambda _: bar.update(1)
                )
        for gen in gens:
            gen.text = gen.text.strip()
        return gens

    def result(self, source, final, calls, chunks, level) -> Generated:
        if self.streaming:
            self.ctx.emit("\n")
            print(f"[{final.completion_tokens} tokens, {final.tokens_per_second:.1f} tokens/s]", file=sys.stderr)
        method = "chat" if chunks == 1 else f"chat map-reduce ({chunks} chunks, {level + 1} levels)"
        result = generated(source, final.text, calls, f"{method} on {self.backend.name}", self.ctx)
        result.streamed = self.streaming
        return result


@hookimpl
def register_tasks(register):
    register(SummarizationTask)
