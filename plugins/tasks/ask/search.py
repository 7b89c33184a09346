"""Finding the passages of past meetings that bear on a question.

Two rankings are fused (reciprocal rank fusion, as hybrid search engines do): by meaning, the
cosine of the question's sentence vector with each passage's, and by words, SQLite FTS5's BM25.
Vectors are made with the embedding model the first time a passage is searched under it, and
kept in the archive. The answer is read from one meeting: the one whose passages weigh most
among the best dozen (a small model given two meetings' passages mixes them: the remote
control's price was once answered with the e-bike's). Each passage's cosine is returned too: a
question whose nearest passage is far from it in meaning has no answer in the archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskdeck.helpers.archive import Archive

#: The rank offset of reciprocal rank fusion (Cormack et al., 2009).
FUSION_K = 60
#: Passages each ranking contributes before fusion.
CANDIDATES = 40
#: The best passages after fusion that vote for the meeting a question is about (by their scores).
FOCUS = 12


@dataclass
class Found:
    passage: int
    score: float  # fused
    similarity: float  # cosine of the question and the passage


def embed_new(archive: Archive, embedder: Any, model: str, batch: int = 256) -> int:
    """Vectors for the passages that have none under ``model`` yet; how many were made."""
    missing = archive.unembedded(model)
    ids = list(missing)
    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        archive.store_vectors(model, dict(zip(part, embedder.embed([missing[i] for i in part]))))
    return len(ids)


def search(archive: Archive, embedder: Any, model: str, question: str, top: int) -> list[Found]:
    """The ``top`` passages for ``question`` from the meeting it is most about, best first."""
    import numpy as np

    ids, matrix = archive.vectors(model)
    if not ids:
        return []
    query = np.asarray(embedder.embed([question])[0], dtype=np.float32)
    cosines = matrix @ query / np.maximum(np.linalg.norm(matrix, axis=1) * np.linalg.norm(query), 1e-12)
    by_meaning = [ids[i] for i in np.argsort(-cosines)[:CANDIDATES]]
    by_words = archive.by_words(question, CANDIDATES)
    fused: dict[int, float] = {}
    for ranking in (by_meaning, by_words):
        for rank, pid in enumerate(ranking):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (FUSION_K + rank + 1)
    similarity = dict(zip(ids, cosines.tolist()))
    ranked = sorted(fused, key=lambda pid: -fused[pid])
    meeting_of = {pid: p.meeting for pid, p in archive.passages(ranked[:FOCUS]).items()}
    weight: dict[int, float] = {}
    for pid in ranked[:FOCUS]:
        weight[meeting_of[pid]] = weight.get(meeting_of[pid], 0.0) + fused[pid]
    focus = max(weight, key=lambda m: weight[m])
    best = [pid for pid in ranked[:FOCUS] if meeting_of[pid] == focus][:top]
    return [Found(pid, fused[pid], float(similarity.get(pid, 0.0))) for pid in best]
