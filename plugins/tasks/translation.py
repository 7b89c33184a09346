"""``task=translation``: translate a text of any length into ``target=`` (from ``source=``).

Two paths, chosen by what the model is:

- a seq2seq translation model (``model=`` names one), method ``seq2seq``:
  - NLLB, M2M100, mBART-50 (multilingual): ``source=`` sets the tokenizer's source language
    and ``target=`` the language token the output starts with (``forced_bos_token_id``).
    Both take a language name (``French``) or the model's own code (``fra_Latn`` for NLLB,
    ``fr`` for M2M100, ``fr_XX`` for mBART-50); an unknown one is an error listing the
    model's nearest codes.
  - Marian ``opus-mt-<src>-<tgt>``: the pair is fixed by the model; a ``target=`` (or
    ``source=``) that contradicts the model's name is an error. Multi-target Marian models
    get the ``>>fra<<`` target token.
  - T5: the input prefix ``translate English to French: `` (the config's
    ``task_specific_params`` entry when it has one; ``source=`` defaults to English).
  - any other encoder-decoder: the text as it is (its languages are fixed by training).
- a chat model (the default, ``qwen2.5-coder-1.5b``), method ``chat``: "Translate the
  following text from {source} to {target}. Reply with the translation only." Without
  ``source=`` the model detects the language. Language codes from the table below are
  turned into names.

Long texts: seq2seq models translate line by line (they drop line breaks), so the breaks are
kept; a line longer than the model's window is cut on sentence boundaries into chunks whose
translations are joined with spaces, and the chunks of all lines are translated in batches.
A chat model gets the whole text in one call when it fits ``CHAT_CHUNK_TOKENS`` (context
helps, and it keeps the line breaks itself); a longer text is sent as whole lines packed up
to that budget, a longer line cut by sentence. The chunks are translated apart, so a chat
model gets them (in a batch, those of every text) in one ``chat_batch``, which llama.cpp
decodes together; only a streamed translation goes chunk by chunk. ``result.json`` records
``chunks``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import sys
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import (
    CHAT,
    SEQ2SEQ,
    ConfigError,
    InputError,
    Task,
    hookimpl,
    param,
    required,
    route,
)
from taskdeck.evaluation import TRANSLATION
from taskdeck.helpers import languages
from taskdeck.helpers.chunked import generated, regroup
from taskdeck.helpers.text_chunks import chunk_sentences, split_paragraphs, split_sentences

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
SYSTEM = (
    "You are a professional translator. You translate faithfully and completely, keeping the meaning, "
    "tone and line breaks. You never add notes, explanations or the original text."
)
PROMPT = "Translate the following text from {source} to {target}. Reply with the translation only.\n\n{text}"
PROMPT_AUTO = "Translate the following text to {target}. Reply with the translation only.\n\n{text}"
CHAT_CHUNK_TOKENS = 512  # a chat model translates at most this much text per call
TEMPLATE_TOKENS = 32
LANGUAGE_TOKENS = 2  # what a source-language token adds to a seq2seq input


class TranslationTask(Task):
    name = "translation"
    description = "translate a text of any length: a seq2seq model (NLLB, M2M100, Marian, T5) or a chat model"

    @dataclass
    class Params:
        text: str = required("the text to translate")
        target: str = required("target language: a name (French) or the model's code (fra_Latn, fr)")
        source: str = param(
            "",
            "source language, name or code (chat models detect it when empty; NLLB/M2M100 models need it)",
            input=True,
        )
        model: str = param(
            DEFAULT_MODEL, "model pack alias, local path or Hub id (a seq2seq translation model for the dedicated path)"
        )
        max_new_tokens: Optional[int] = param(
            None, "most tokens per translated chunk (None: twice the chunk's tokens + 16)", ge=1
        )
        num_beams: int = param(4, "beam search width for seq2seq models (chat models decode greedily)", ge=1)
        stream: bool = param(True, "chat models: print the translation as it is generated")

    eval_metric = TRANSLATION
    chunk_size = 64  # texts whose lines and chunks are translated together

    def for_batch(self, params, ctx):
        return dataclasses.replace(params, stream=False)

    def prepare(self, params) -> str:
        return _inputs(params)[0]

    @route(SEQ2SEQ, batched=True)
    def forward(self, backend, items, params, ctx):
        """The lines and chunks of every text, translated together in length-sorted batches."""
        return Seq2SeqTranslator(backend, params, ctx).translate(items)

    @route(CHAT, batched=True)
    def translate_by_chat(self, backend, items, params, ctx):
        """Every text's chunks through one ``chat_batch``; one text alone is streamed."""
        target, source = _languages(params)
        streaming = len(items) == 1 and params.stream and not ctx.quiet
        return chat_translations(backend, items, source, target, params, ctx, streaming)


def _inputs(params) -> tuple[str, str, str]:
    """(text, target, source) checked; source may be empty."""
    text = params.text if isinstance(params.text, str) else ""
    if not text.strip():
        raise InputError('text= is empty: give the text to translate, e.g. text="Good morning" target=French')
    return (text.strip(), *_languages(params))


def source_language(params) -> str:
    """The language sentences are split in: ``source=``, English when it is not given."""
    return str(params.source or "").strip() or "en"


def _languages(params) -> tuple[str, str]:
    target = str(params.target).strip()
    if not target:
        raise InputError("target= is empty: name the language to translate into, e.g. target=French")
    return target, str(params.source or "").strip()


# ---- language names and codes ----
def language_name(value: str) -> str:
    """A name for a chat prompt: ``fr`` / ``fra_Latn`` / ``french`` → ``French``; others as given."""
    return languages.name_of(value)


def model_code(value: str, codes: list[str], role: str) -> str:
    """The model's code for a language given by name or code; one-line error with near matches."""
    if value in codes:
        return value
    lower = {c.lower(): c for c in codes}
    if value.lower() in lower:
        return lower[value.lower()]
    entry = languages.find(value)
    if entry:
        _, iso, nllb = entry
        for candidate in (nllb, iso, nllb.split("_")[0]):
            if candidate in codes:
                return candidate
        for code in codes:  # mBART-50 style: fr_XX
            if code.split("_")[0] == iso:
                return code
    near = difflib.get_close_matches(value.lower(), list(lower), n=4, cutoff=0.5)
    near += [c for c in lower if c.startswith(value.lower()[:3]) and c not in near][: 4 - len(near)]
    hint = (
        f"near matches: {', '.join(lower[c] for c in near)}"
        if near
        else f"it knows {len(codes)} codes, e.g. {', '.join(codes[:5])}"
    )
    raise InputError(f"unknown {role} language '{value}' for this model; {hint} (or a name such as French)")


# ---- seq2seq ----
class Seq2SeqTranslator:
    """Works out how the model is told the languages, then translates texts in batches."""

    def __init__(self, backend, params, ctx):
        self.backend, self.params, self.ctx = backend, params, ctx
        self.info = info = backend.seq2seq_info()
        target, source = _languages(params)
        self.prefix, self.src_lang, self.tgt_lang = "", None, None
        codes = info.language_codes
        if codes and info.languages_by == "target_token":
            self.prefix = f">>{model_code(target, codes, 'target')}<< "
            self.how = "target token"
        elif codes and info.languages_by == "src_lang":
            if not source:
                raise InputError(
                    "source= is needed for this multilingual model: add source=English "
                    "(or the model's code, e.g. eng_Latn)"
                )
            self.src_lang = model_code(source, codes, "source")
            self.tgt_lang = model_code(target, codes, "target")
            self.how = f"{self.src_lang} -> {self.tgt_lang}"
        elif info.model_type in ("t5", "mt5") or any(k.startswith("translation_") for k in info.task_prefixes):
            self.prefix = self._t5_prefix(source or "English", target)
            self.how = f"prefix '{self.prefix.strip()}'"
        else:
            self._check_fixed_pair(source, target)
            self.how = "fixed language pair"
        # the source language token NLLB/M2M100/mBART add is not in count_tokens: leave room for it
        self.window = backend.context_window() - (LANGUAGE_TOKENS if self.src_lang else 0)

    def _t5_prefix(self, source: str, target: str) -> str:
        src, tgt = languages.find(source), languages.find(target)
        keys = [k for k in self.info.task_prefixes if k.startswith("translation_")]
        if src and tgt:
            configured = self.info.task_prefixes.get(f"translation_{src.iso}_to_{tgt.iso}")
            if configured:
                return configured
        if keys:
            pairs = [k[len("translation_") :].split("_to_") for k in keys]
            named = ", ".join(" to ".join(language_name(code) for code in pair) for pair in pairs)
            raise InputError(
                f"this model translates only {named}: choose one of those pairs with source= and "
                "target=, or a multilingual model such as NLLB"
            )
        return f"translate {src.name if src else source} to {tgt.name if tgt else target}: "

    def _check_fixed_pair(self, source: str, target: str) -> None:
        """Marian opus-mt-<src>-<tgt>: refuse a target/source the model's name contradicts."""
        m = re.search(r"opus-mt-(?:tc-big-)?([a-z]{2,3})-([a-z]{2,3})(?:$|[^a-zA-Z])", str(self.backend.model.ref))
        if not m:
            return
        for given, code, role in ((target, m.group(2), "target"), (source, m.group(1), "source")):
            entry = languages.find(given) if given else None
            if given and entry and code not in (entry[1], entry[2].split("_")[0]):
                raise InputError(
                    f"model '{self.backend.model.ref}' translates {m.group(1)} to {m.group(2)} only, "
                    f"not {role} {given}: use an opus-mt model for that pair or an NLLB model"
                )

    def count(self, texts: list[str]) -> list[int]:
        return [self.backend.count_tokens(self.prefix + t) for t in texts]

    def translate(self, texts: list[str]) -> list[Any]:
        """A Generated per text (chunks of every text translated together)."""
        pieces: list[str] = []
        plans: list[list[tuple[list[int], str]]] = []  # per text: (piece indices, separator) per paragraph
        for text in texts:
            plan = []
            for paragraph, sep in split_paragraphs(text):
                if self.count([paragraph])[0] <= self.window:
                    parts = [paragraph]
                else:
                    parts = chunk_sentences(
                        split_sentences(paragraph, source_language(self.params)),
                        lambda t: self.count([t])[0],
                        self.window,
                    )
                plan.append((list(range(len(pieces), len(pieces) + len(parts))), sep))
                pieces += parts
            plans.append(plan)
        sizes = self.count(pieces)
        p = self.params
        limits = [p.max_new_tokens or 2 * n + 16 for n in sizes]
        gens = self.backend.seq2seq(
            [self.prefix + t for t in pieces],
            max_new_tokens=limits,
            num_beams=p.num_beams,
            src_lang=self.src_lang,
            tgt_lang=self.tgt_lang,
            progress=lambda it: self.ctx.progress(it, total=len(it), desc="translating"),
        )
        self.ctx.metrics["chunks"] = self.ctx.metrics.get("chunks", 0) + len(pieces)
        results = []
        for text, plan in zip(texts, plans):
            out, used = [], []
            for indices, sep in plan:
                out.append(" ".join(gens[k].text for k in indices if gens[k].text) + sep)
                used += [gens[k] for k in indices]
            n = len(used)
            method = f"seq2seq ({self.how})" + (f", {n} chunks" if n > 1 else "")
            results.append(generated(text, "".join(out).strip(), used, method, self.ctx))
        return results


# ---- chat ----
def chat_translations(backend, texts: list[str], source: str, target: str, params, ctx, streaming: bool):
    """A Generated per text. The chunks of every text go through one ``chat_batch``;
    ``streaming`` (one text) prints them one after the other as they are generated."""
    count = backend.count_tokens
    window = backend.context_window()
    names = {"source": language_name(source) if source else "", "target": language_name(target)}
    prompt = PROMPT if source else PROMPT_AUTO
    overhead = count(SYSTEM) + count(prompt.format(text="", **names)) + TEMPLATE_TOKENS
    budget = min(CHAT_CHUNK_TOKENS, (window - overhead) // 3)  # the answer may be twice the chunk
    if budget < 16:
        raise ConfigError(f"the model's {window}-token window is too small to translate with: raise backend.n_ctx")
    plans = [chat_pieces(text, count, budget, source) for text in texts]
    pieces = [part for plan in plans for part, _ in plan]
    ctx.metrics["chunks"] = ctx.metrics.get("chunks", 0) + len(pieces)
    conversations = [
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt.format(text=part, **names)}]
        for part in pieces
    ]
    sizes = [count(part) for part in pieces]
    limits = [min(params.max_new_tokens or 2 * n + 32, window - overhead - n) for n in sizes]  # within the window
    if streaming:
        gens = []
        for messages, limit, (_, sep) in zip(conversations, limits, plans[0]):
            gens.append(backend.chat(messages, max_new_tokens=limit, temperature=0.0, stream=ctx.emit))
            ctx.emit(sep)
        ctx.emit("\n")
        speed = sum(g.completion_tokens for g in gens) / max(1e-9, sum(g.seconds for g in gens))
        print(f"[{sum(g.completion_tokens for g in gens)} tokens, {speed:.1f} tokens/s]", file=sys.stderr)
    elif len(pieces) == 1:
        gens = [backend.chat(conversations[0], max_new_tokens=limits[0], temperature=0.0)]
    else:
        with ctx.progress(None, total=len(pieces), desc="translating") as bar:
            gens = backend.chat_batch(
                conversations, max_new_tokens=limits, temperature=0.0, on_done=lambda _: bar.update(1)
            )
    results = []
    for text, plan, calls in zip(texts, plans, regroup(gens, [len(plan) for plan in plans])):
        out = "".join(g.text.strip() + sep for g, (_, sep) in zip(calls, plan))
        method = f"chat on {backend.name}" + (f", {len(plan)} chunks" if len(plan) > 1 else "")
        result = generated(text, out.strip(), calls, method, ctx)
        result.streamed = streaming
        results.append(result)
    return results


def chat_pieces(text: str, count, budget: int, language: str = "") -> list[tuple[str, str]]:
    """``(chunk, what follows it)`` pairs for a chat model: the whole text when it fits the
    budget (the model keeps its line breaks and sees all the context); otherwise whole lines
    packed together up to the budget, a line too long for it cut by sentence."""
    if count(text) <= budget:
        return [(text, "")]
    units: list[tuple[str, str]] = []
    for paragraph, sep in split_paragraphs(text):
        parts = (
            [paragraph]
            if count(paragraph) <= budget
            else chunk_sentences(split_sentences(paragraph, language), count, budget)
        )
        units += [(part, " " if k < len(parts) - 1 else sep) for k, part in enumerate(parts)]
    pieces: list[tuple[str, str]] = []
    for unit, sep in units:
        if pieces and "\n" in pieces[-1][1] and count(pieces[-1][0] + pieces[-1][1] + unit) <= budget:
            pieces[-1] = (pieces[-1][0] + pieces[-1][1] + unit, sep)  # whole lines share a chunk
        else:
            pieces.append((unit, sep))
    return pieces


@hookimpl
def register_tasks(register):
    register(TranslationTask)
