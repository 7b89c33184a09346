"""Token classification / NER through a token classifier (the transformers backend's ``tag``).

Entities come from the token-classification pipeline with the chosen aggregation strategy.
Their ``word`` is the exact source span ``text[start:end]`` (the pipeline's own "word" is
detokenized, e.g. lower-cased or with ``##`` pieces). Texts longer than the model's window
are read in overlapping windows (the pipeline's ``stride``) instead of being cut off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from taskdeck import InputError

AGGREGATION_STRATEGIES = ("none", "simple", "first", "average", "max")


def tag(
    backend: Any, texts: Sequence[str], *, aggregation_strategy: str = "simple", batch_size: Optional[int] = None
) -> list[list[dict[str, Any]]]:
    """Entities per text, in text order: dicts with ``entity`` (the entity group, or the
    token's label such as ``B-PER`` with ``aggregation_strategy="none"``), ``score``,
    ``start``, ``end`` (character offsets) and ``word == text[start:end]``."""
    if aggregation_strategy not in AGGREGATION_STRATEGIES:
        raise InputError(
            f"unknown aggregation_strategy '{aggregation_strategy}'; choices: {', '.join(AGGREGATION_STRATEGIES)}"
        )
    pipe = backend.pipeline("token-classification")
    texts = list(texts)
    kwargs = dict(aggregation_strategy=aggregation_strategy, batch_size=batch_size or backend.params.batch_size)
    long = _too_long(pipe.tokenizer, texts)
    results: list[Any] = [None] * len(texts)
    short = [i for i in range(len(texts)) if i not in long]
    if short:
        for i, out in zip(short, pipe([texts[i] for i in short], **kwargs)):
            results[i] = out
    if long:
        if aggregation_strategy == "none" or not pipe.tokenizer.is_fast:
            raise InputError(
                f"a text is longer than the model's {pipe.tokenizer.model_max_length} tokens: "
                "use aggregation_strategy=simple (long texts are read in overlapping windows) "
                "or split the text"
            )
        stride = max(1, pipe.tokenizer.model_max_length // 4)
        for i in sorted(long):
            results[i] = pipe(texts[i], stride=stride, **kwargs)
    return [_entities(text, out) for text, out in zip(texts, results)]


def _too_long(tokenizer: Any, texts: list[str]) -> set[int]:
    limit = tokenizer.model_max_length
    if not limit or limit > 1_000_000:  # no limit recorded
        return set()
    lengths = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
    return {i for i, ids in enumerate(lengths) if len(ids) > limit}


def _entities(text: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entities = []
    cursor = 0
    for d in found:
        start, end = d.get("start"), d.get("end")
        if start is None or end is None:  # a slow tokenizer gives no offsets: find the word
            word = str(d.get("word", "")).replace("##", "")
            start = text.find(word, cursor) if word else -1
            if start < 0:
                start = text.lower().find(word.lower(), cursor) if word else -1
            if start < 0:
                continue
            end = start + len(word)
        start, end = int(start), int(end)
        cursor = end
        entities.append(
            {
                "entity": str(d.get("entity_group", d.get("entity"))),
                "score": float(d["score"]),
                "start": start,
                "end": end,
                "word": text[start:end],
            }
        )
    return entities
