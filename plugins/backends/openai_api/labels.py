"""Label scoring over the API: each label's log-probability as the answer's first token.

One request with ``max_tokens=1`` and ``top_logprobs=20`` gives the most likely first tokens
of the answer. A label collects the probability of every listed token that begins it (case
and leading spaces ignored); a token that begins several labels is shared between them, and
a label no listed token begins gets less than the least likely listed token. This is exact
for labels whose first tokens differ (positive / negative / neutral, yes / no) and an
approximation otherwise: the API gives no distribution after a chosen prefix.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from taskdeck import CapabilityError

from .faults import api_errors

if TYPE_CHECKING:
    from . import OpenAIBackend

TOP_LOGPROBS = 20  # the most the API returns


def score_labels(backend: OpenAIBackend, messages: Sequence[dict], labels: Sequence[str]) -> dict[str, float]:
    start = time.perf_counter()
    with api_errors(backend, "/chat/completions"):
        answer = backend.client.chat.completions.create(
            model=backend.model.ref,
            messages=list(messages),
            max_tokens=1,
            temperature=0.0,
            logprobs=True,
            top_logprobs=TOP_LOGPROBS,
        )
    usage = answer.usage
    backend.count(
        time.perf_counter() - start, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0
    )
    choice = answer.choices[0] if answer.choices else None
    content = choice.logprobs.content if choice is not None and choice.logprobs else None
    if not content or not content[0].top_logprobs:
        raise CapabilityError(
            f"the server at {backend.base_url} returned no logprobs for '{backend.model.ref}', "
            "which label scoring needs: use a server that returns them, or "
            "backend.logprobs=false (then tasks that need label scoring name other backends)"
        )
    return first_token_scores([(t.token, t.logprob) for t in content[0].top_logprobs], labels)


def first_token_scores(top: Sequence[tuple[str, float]], labels: Sequence[str]) -> dict[str, float]:
    """Each label's log-probability from ``(token, logprob)`` pairs of the first answer token."""
    lowered = {label: label.strip().lower() for label in labels}
    floor = min(lp for _, lp in top) - math.log(2)  # below every listed token
    collected: dict[str, list[float]] = {label: [] for label in labels}
    for token, logprob in top:
        piece = token.strip().lower()
        if not piece:
            continue
        begun = [label for label, text in lowered.items() if text.startswith(piece)]
        for label in begun:
            collected[label].append(logprob - math.log(len(begun)))
    return {label: _logsumexp(lps) if lps else floor for label, lps in collected.items()}


def _logsumexp(values: list[float]) -> float:
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))
