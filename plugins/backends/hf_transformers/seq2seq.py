"""Sequence-to-sequence generation (the transformers backend's ``seq2seq``): summaries and
translations from encoder-decoder models (BART, T5, Pegasus, Marian, NLLB, M2M100, mBART).

``generate(backend, texts, ...)`` runs ``model.generate`` over batches of texts (sorted by
length so a batch carries little padding) and returns one :class:`taskdeck.Completion` per
text, in input order. Inputs are never truncated: a text longer than the model's window is
an error here, and the tasks chunk long texts before calling (the backend's ``context_window`` and
``count_tokens`` say how). The model's own generation config (beams, length penalty,
``no_repeat_ngram_size`` …) applies except where an argument overrides it, as in the
transformers pipelines.

Multilingual models: ``src_lang`` sets the tokenizer's source language (NLLB, M2M100,
mBART-50) and ``tgt_lang`` forces the target language's token as the first generated token
(``forced_bos_token_id``); ``language_codes`` lists the codes a tokenizer knows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Optional, Union

from taskdeck import Completion, InputError, Seq2SeqInfo

#: Special tokens that name a language, as each model family writes them.
_CODE_PATTERNS = (
    re.compile(r"^[a-z]{2,3}_[A-Z][a-z]{3}$"),  # NLLB: fra_Latn
    re.compile(r"^[a-z]{2,3}_[A-Z]{2}$"),  # mBART-50: fr_XX
    re.compile(r"^__([a-z]{2,3}(?:_[a-zA-Z]+)?)__$"),  # M2M100: __fr__ (code "fr")
    re.compile(r"^>>([a-z]{2,3}(?:_[a-zA-Z]+)?)<<$"),  # Marian multi-target: >>fra<< (code "fra")
)


def generate(
    backend: Any,
    texts: Sequence[str],
    *,
    max_new_tokens: Union[int, Sequence[int]] = 128,
    min_new_tokens: Optional[int] = None,
    num_beams: Optional[int] = None,
    src_lang: Optional[str] = None,
    tgt_lang: Optional[str] = None,
    batch_size: Optional[int] = None,
    progress: Optional[Callable[[Iterable[Any]], Iterable[Any]]] = None,
    **options: Any,
) -> list[Completion]:
    """One generation per text (``texts[i]`` → ``result[i]``).

    ``max_new_tokens`` is one limit or one per text (a batch uses its largest); it is capped
    at what the decoder's positions allow. ``min_new_tokens`` and ``num_beams`` (None: the
    model's generation config) and any other ``options`` (``length_penalty``,
    ``no_repeat_ngram_size`` …) go to ``model.generate``. ``src_lang``/``tgt_lang`` are
    language codes of a multilingual model (see :func:`language_codes`). ``progress`` wraps
    the iterable of batches (a progress bar). ``Completion.seconds`` is each text's share of
    its batch's time; ``prompt_tokens`` counts the encoder's input tokens."""
    import torch

    texts = list(texts)
    if not texts:
        return []
    limits = [max_new_tokens] * len(texts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if len(limits) != len(texts):
        raise ValueError("max_new_tokens: give one limit, or one per text")
    cap = output_limit(backend)
    if cap is not None:
        limits = [max(1, min(n, cap)) for n in limits]
    model, tokenizer = backend.hf_model, backend.tokenizer
    if src_lang is not None:
        tokenizer.src_lang = src_lang
    gen: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    if num_beams is not None:
        gen["num_beams"] = int(num_beams)
    if min_new_tokens is not None:
        gen["min_new_tokens"] = int(min_new_tokens)
    if tgt_lang is not None:
        gen["forced_bos_token_id"] = language_token_id(tokenizer, tgt_lang)

    lengths = [backend.count_tokens(t) for t in texts]
    window = backend.context_window()
    too_long = [n for n in lengths if n > window]
    if too_long:
        raise InputError(
            f"an input of {too_long[0]} tokens exceeds the model's {window}-token window: "
            "split the text (the summarization and translation tasks chunk it)"
        )
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    size = max(1, int(batch_size or getattr(backend.params, "batch_size", 8) or 8))
    batches = [order[s : s + size] for s in range(0, len(order), size)]
    results: list[Optional[Completion]] = [None] * len(texts)
    if tokenizer.pad_token_id is None and len(texts) > 1:  # batches need padding
        tokenizer.pad_token = tokenizer.eos_token
    pad = tokenizer.pad_token_id
    eos = _eos_ids(model)
    for batch in progress(batches) if progress else batches:
        enc = tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True)
        inputs = {k: v.to(backend.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        n_new = max(limits[i] for i in batch)
        # max_length (decoder start + new tokens) instead of max_new_tokens: the same limit,
        # without transformers warning that the model's own max_length is overridden; a
        # configured min_length the limit cannot reach is capped (it would only warn too).
        lengths_kw = {"max_length": n_new + 1}
        if (model.generation_config.min_length or 0) > n_new + 1:
            lengths_kw["min_length"] = n_new + 1
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**inputs, **lengths_kw, **gen)
        seconds = (time.perf_counter() - start) / len(batch)
        start_ids = 1  # the decoder start token
        for row, i in zip(out, batch):
            new = row[start_ids:].tolist()
            if pad is not None and pad not in eos:  # padding after an early end
                while new and new[-1] == pad:
                    new.pop()
            ended = any(t in eos for t in new)
            if ended:
                new = new[: next(k for k, t in enumerate(new) if t in eos) + 1]
            text = tokenizer.decode(new, skip_special_tokens=True).strip()
            results[i] = Completion(
                text=text,
                prompt_tokens=lengths[i],
                completion_tokens=len(new),
                seconds=seconds,
                finish_reason="stop" if ended else "length",
            )
    return [r for r in results if r is not None]


def _eos_ids(model: Any) -> set[int]:
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        eos = model.config.eos_token_id
    return set(eos if isinstance(eos, (list, tuple)) else [eos]) - {None}


def output_limit(backend: Any) -> Optional[int]:
    """The most tokens the decoder can generate (learned positions: BART, Marian, mBART),
    leaving room for the decoder start and a forced language token; None when unbounded (T5)."""
    config = backend.hf_model.config
    for attr in ("max_target_positions", "max_position_embeddings"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return max(1, value - 2)
    return None


def model_type(backend: Any) -> str:
    return str(getattr(backend.hf_model.config, "model_type", "") or "")


def language_codes(backend: Any) -> list[str]:
    """Language codes the tokenizer knows, as a user writes them (``fra_Latn`` for NLLB,
    ``fr`` for M2M100, ``fr_XX`` for mBART-50, ``fra`` for a multi-target Marian model);
    empty for models whose languages are fixed (Marian pairs, T5, BART)."""
    tokenizer = backend.tokenizer
    mapping = getattr(tokenizer, "lang_code_to_id", None)
    if isinstance(mapping, dict) and mapping:
        return list(mapping)
    codes: list[str] = []
    for token in _special_tokens(tokenizer):
        for pattern in _CODE_PATTERNS:
            m = pattern.match(token)
            if m:
                codes.append(m.group(1) if m.groups() else token)
                break
    if not codes and model_type(backend) == "marian":  # target tokens live in the vocabulary
        codes = [m.group(1) for t in tokenizer.get_vocab() for m in [_CODE_PATTERNS[3].match(t)] if m]
    return list(dict.fromkeys(codes))


def _special_tokens(tokenizer: Any) -> list[str]:
    tokens: list[str] = []
    for attr in ("extra_special_tokens", "additional_special_tokens"):
        value = getattr(tokenizer, attr, None)
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            tokens += [str(t) for t in value]
    if not tokens:
        tokens = [str(t) for t in getattr(tokenizer, "added_tokens_encoder", {}) or {}]
    return tokens


def language_token_id(tokenizer: Any, code: str) -> int:
    """The id of the token that starts a text in language ``code``."""
    get = getattr(tokenizer, "get_lang_id", None)
    if callable(get):  # M2M100: "fr" -> "__fr__"
        return int(get(code))
    for token in (code, f"__{code}__"):
        tid = tokenizer.convert_tokens_to_ids(token)
        if tid is not None and tid != tokenizer.unk_token_id:
            return int(tid)
    raise InputError(f"the model's tokenizer has no token for language '{code}'")


def uses_target_prefix(backend: Any) -> bool:
    """True for multi-target Marian models, which read the target as a ``>>fra<<`` prefix."""
    return model_type(backend) == "marian" and bool(language_codes(backend))


def uses_src_lang(backend: Any) -> bool:
    """True when the tokenizer takes a source language (NLLB, M2M100, mBART-50)."""
    return hasattr(backend.tokenizer, "src_lang") and not uses_target_prefix(backend)


def info(backend: Any) -> Seq2SeqInfo:
    """What the model expects of its input, for the tasks that prepare it."""
    params = getattr(backend.hf_model.config, "task_specific_params", None) or {}
    prefixes = {task: str(entry.get("prefix") or "") for task, entry in params.items() if isinstance(entry, dict)}
    how = "target_token" if uses_target_prefix(backend) else "src_lang" if uses_src_lang(backend) else ""
    return Seq2SeqInfo(
        model_type=model_type(backend), task_prefixes=prefixes, language_codes=language_codes(backend), languages_by=how
    )
