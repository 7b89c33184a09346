"""Score candidate labels as continuations of a prompt, sharing work between labels.

Used by backends for the chat-model classification fallback: one forward pass over the
prompt gives the next-token distribution; labels whose first tokens differ are scored
from it alone. Labels that share a prefix need a few more (short) steps, walked as a trie
so each distinct prefix is evaluated once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

# next_logprobs(prefix) -> log-probabilities over the vocabulary after prompt + prefix
NextLogprobs = Callable[[tuple[int, ...]], Sequence[float]]


def label_variants(label: str) -> list[str]:
    """Surface forms a model may use for a label: as given, lower case, Capitalised."""
    forms = [label, label.lower(), label[:1].upper() + label[1:].lower()]
    return list(dict.fromkeys(f for f in forms if f))


def score_token_sequences(sequences: dict[str, list[list[int]]], next_logprobs: NextLogprobs) -> dict[str, float]:
    """Log-probability of each key: logsumexp over its token sequences, each the sum of its
    tokens' log-probabilities. Only as many tokens are scored as needed to tell keys apart."""
    # Truncate each sequence at the first token where it no longer shares a prefix with
    # another key's sequence: beyond it the key is already identified.
    owners: dict[tuple[int, ...], set[str]] = {}
    for key, seqs in sequences.items():
        for seq in seqs:
            for i in range(1, len(seq) + 1):
                owners.setdefault(tuple(seq[:i]), set()).add(key)
    cache: dict[tuple[int, ...], Sequence[float]] = {}

    def lp(prefix: tuple[int, ...], token: int) -> float:
        if prefix not in cache:
            cache[prefix] = next_logprobs(prefix)
        return float(cache[prefix][token])

    scores: dict[str, float] = {}
    for key, seqs in sequences.items():
        totals = []
        unique: dict[tuple[int, ...], None] = dict.fromkeys(tuple(s) for s in seqs if s)
        for tokens in unique:
            total = 0.0
            for i, tok in enumerate(tokens):
                total += lp(tokens[:i], tok)
                if owners[tokens[: i + 1]] == {key}:
                    break
            totals.append(total)
        scores[key] = _logsumexp(totals) if totals else -math.inf
    return scores


def normalise(scores: dict[str, float]) -> dict[str, float]:
    """Softmax over the labels' log-probabilities: probabilities that sum to 1."""
    m = max(scores.values())
    exp = {k: math.exp(v - m) for k, v in scores.items()}
    z = sum(exp.values())
    return {k: v / z for k, v in exp.items()}


def yes_probability(backend: Any, system: str, question: str) -> float:
    """P(yes) against P(no) as a chat model's answer to ``question`` (one forward pass through
    its ``score_labels``): the yes/no judgement the text tasks share."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
    return normalise(backend.score_labels(messages, ["yes", "no"]))["yes"]


def _logsumexp(xs: list[float]) -> float:
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))
