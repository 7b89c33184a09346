"""The quality report of a synthetic dataset: counts, lexical and semantic diversity, enum spread."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Optional

from .dedup import record_text
from .shape import enum_fields

_WORD = re.compile(r"\w+", flags=re.UNICODE)


def distinct_ngrams(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts (distinct-n); 0 when there are none."""
    grams: list[tuple[str, ...]] = []
    for text in texts:
        words = _WORD.findall(text.lower())
        grams += [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def mean_pairwise_distance(vectors: Sequence[Sequence[float]]) -> Optional[float]:
    """Mean cosine distance (1 - cosine similarity) over all pairs; None below two vectors."""
    if len(vectors) < 2:
        return None
    import numpy as np

    v = np.asarray(vectors, dtype=np.float64)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    sims = v @ v.T
    n = len(v)
    mean_sim = (sims.sum() - np.trace(sims)) / (n * (n - 1))
    return float(1.0 - mean_sim)


def enum_distribution(records: Sequence[dict[str, Any]], schema: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Counts of each value of each enum (and boolean) field, in the schema's value order."""
    out = {}
    for name, values in enum_fields(schema).items():
        seen = Counter(
            str(r.get(name)).lower() if isinstance(r.get(name), bool) else str(r.get(name))
            for r in records
            if name in r
        )
        keys = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
        out[name] = {k: seen.get(k, 0) for k in keys}
    return out


def report(
    counts: dict[str, int],
    records: Sequence[dict[str, Any]],
    schema: dict[str, Any],
    text_fields: Sequence[str],
    vectors: Optional[Sequence[Sequence[float]]],
) -> dict[str, Any]:
    """The whole report: this run's counts, then diversity measured over every written record."""
    texts = [record_text(r, text_fields) for r in records]
    distance = mean_pairwise_distance(vectors) if vectors is not None else None
    return {
        **counts,
        "distinct_1": round(distinct_ngrams(texts, 1), 4),
        "distinct_2": round(distinct_ngrams(texts, 2), 4),
        "mean_pairwise_embedding_distance": round(distance, 4) if distance is not None else None,
        "enum_distribution": enum_distribution(records, schema),
    }


def render(q: dict[str, Any]) -> str:
    """The report as a few terminal lines."""
    lines = [
        f"asked {q['asked']} · generated {q['generated']} · invalid {q['invalid']} "
        f"(repaired {q['repaired']}) · duplicates removed {q['duplicates_removed']} "
        f"(exact {q['exact_duplicates']}, near {q['near_duplicates']}) · written {q['written']}"
        + (f" (continuing {q['existing']} already there)" if q.get("existing") else "")
    ]
    every = q.get("all_runs")
    if every:
        lines.append(
            f"all runs on this file: generated {every['generated']} · invalid {every['invalid']} · "
            f"duplicates removed {every['duplicates_removed']} · {every['total']} records in "
            f"{every['batches']} batches"
        )
    if q.get("shortfall"):
        lines.append(
            f"shortfall: {q['shortfall']} records short of {q['asked']} after {q['batches']} batches; "
            f"rerun with the same out= to continue, or raise max_batches="
        )
    distance = q.get("mean_pairwise_embedding_distance")
    lines.append(
        f"distinct-1 {q['distinct_1']:.3f} · distinct-2 {q['distinct_2']:.3f} · mean pairwise "
        f"embedding distance {'n/a' if distance is None else f'{distance:.3f}'}"
    )
    for name, dist in q.get("enum_distribution", {}).items():
        lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in dist.items()))
    return "\n".join(lines)
