"""Duplicate removal: exact (normalised JSON) and near (sentence-embedding cosine similarity).

A record is an exact duplicate when its fields match a kept record's after case and
whitespace are normalised, and a near duplicate when the embedding of its long text fields
(the review, not the reviewer's name; or ``dedup_on=``) is at least ``threshold``
cosine-similar to a kept record's. Kept records' vectors are reused by
the quality report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Optional

from .shape import PATTERNS

Embedder = Callable[[Sequence[str]], list]


def record_key(record: dict[str, Any]) -> str:
    """The record with case and whitespace normalised, as a canonical JSON string."""

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r"\s+", " ", value).strip().lower()
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    return json.dumps(norm(record), sort_keys=True, ensure_ascii=False)


def free_text(schema: dict[str, Any]) -> list[str]:
    """The free-text fields: strings that are not enums, dates or emails."""
    return [
        n
        for n, node in schema.get("properties", {}).items()
        if node.get("type") == "string" and "enum" not in node and node.get("pattern") not in PATTERNS.values()
    ]


def has_free_text(schema: dict[str, Any]) -> bool:
    return bool(free_text(schema))


def text_fields(schema: dict[str, Any]) -> list[str]:
    """The free-text fields; all fields if none."""
    return free_text(schema) or list(schema.get("properties", {}))


def long_text_fields(schema: dict[str, Any], records: Sequence[dict[str, Any]], min_chars: int = 30) -> list[str]:
    """The free-text fields whose values average ``min_chars`` or more in ``records`` (the review,
    not the reviewer's name): what tells two records apart. All free-text fields if none is long."""
    free = text_fields(schema)

    def mean_len(f: str) -> float:
        values = [len(str(r[f])) for r in records if f in r]
        return sum(values) / len(values) if values else 0.0

    return [f for f in free if mean_len(f) >= min_chars] or free


def record_text(record: dict[str, Any], fields: Sequence[str]) -> str:
    """What is embedded for a record: ``field: value`` lines of ``fields``."""
    return "\n".join(f"{f}: {_flat(record[f])}" for f in fields if f in record) or json.dumps(record)


def _flat(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class Deduplicator:
    """Keeps records that are neither exact nor near duplicates of those kept before."""

    def __init__(
        self,
        schema: dict[str, Any],
        embed: Optional[Embedder] = None,
        threshold: float = 0.92,
        fields: Optional[Sequence[str]] = None,
    ):
        self.schema, self.embed, self.threshold = schema, embed, threshold
        self.fields: list[str] = list(fields or [])  # compared fields; chosen from the first records if empty
        self.keys: set[str] = set()
        self.vectors: list[list[float]] = []  # one per kept record, when embedding

    def _choose_fields(self, records: Sequence[dict[str, Any]]) -> None:
        if not self.fields and records:
            self.fields = long_text_fields(self.schema, records)

    def seed(self, records: Sequence[dict[str, Any]]) -> None:
        """Records kept before (an output being continued): all kept, later ones compared with them."""
        self._choose_fields(records)
        self.keys.update(record_key(r) for r in records)
        if self.embed is not None and records:
            self.vectors += self.embed([record_text(r, self.fields) for r in records])

    def filter(self, records: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
        """(kept records, exact duplicates, near duplicates), in order; the kept are remembered."""
        fresh, exact = [], 0
        for r in records:
            key = record_key(r)
            if key in self.keys:
                exact += 1
                continue
            self.keys.add(key)
            fresh.append(r)
        self._choose_fields(fresh)
        if self.embed is None or not fresh:
            return fresh, exact, 0
        import numpy as np

        new = np.asarray(self.embed([record_text(r, self.fields) for r in fresh]), dtype=np.float32)
        new /= np.maximum(np.linalg.norm(new, axis=1, keepdims=True), 1e-12)
        kept_vecs = np.asarray(self.vectors, dtype=np.float32).reshape(-1, new.shape[1])
        kept_vecs = kept_vecs / np.maximum(np.linalg.norm(kept_vecs, axis=1, keepdims=True), 1e-12)
        kept, near = [], 0
        for r, v in zip(fresh, new):
            if len(kept_vecs) and float((kept_vecs @ v).max()) >= self.threshold:
                near += 1
                continue
            kept.append(r)
            kept_vecs = np.vstack([kept_vecs, v[None, :]])
            self.vectors.append(v.tolist())
        return kept, exact, near
