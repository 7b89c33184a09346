"""Voice-window embeddings → speakers → turns.

1. Agglomerative clustering (average linkage, cosine distance; scipy): windows join while
   the mean distance between two groups stays under ``threshold``, or until ``speakers``
   groups remain when the number is given. No number of clusters is guessed up front, and a
   meeting of one speaker stays one cluster.
2. Clusters holding less than ``min_share`` of the speech are absorbed by the nearest large
   one (a cough, a laugh, a window across a change of speaker), then every window is
   assigned to its nearest centroid twice (a k-means refinement from the clustering's start).
3. Each 10 ms frame of speech takes the speaker whose centroid the windows covering it
   resemble most (mean cosine similarity); runs shorter than ``min_turn_s`` are absorbed by
   their neighbours; consecutive frames of one speaker make a turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FRAME_S = 0.01


def cluster(
    embeddings: Any,
    *,
    speakers: int | None = None,
    threshold: float = 0.35,
    min_share: float = 0.04,
    max_speakers: int = 20,
) -> Any:
    """A label (0..k-1, in order of first appearance) per row of ``embeddings`` (unit vectors)."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1 or speakers == 1:
        return np.zeros(n, dtype=int)
    tree = linkage(embeddings, method="average", metric="cosine")
    if speakers:
        labels = fcluster(tree, t=min(speakers, n), criterion="maxclust") - 1
    else:
        labels = fcluster(tree, t=threshold, criterion="distance") - 1
        labels = _absorb_small(embeddings, labels, min_share)
        if len(set(labels)) > max_speakers:
            labels = fcluster(tree, t=max_speakers, criterion="maxclust") - 1
    labels = _refine(embeddings, labels)
    return _by_first_appearance(labels)


def centroids(embeddings: Any, labels: Any) -> Any:
    """Unit-length mean embedding of each label, ``(k, dim)``."""
    import numpy as np

    out = np.stack([embeddings[labels == k].mean(axis=0) for k in range(int(labels.max()) + 1)])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def frame_labels(
    spans: Sequence[tuple[float, float]],
    embeddings: Any,
    centres: Any,
    regions: Sequence[tuple[float, float]],
    duration: float,
    min_turn_s: float = 0.5,
) -> Any:
    """A speaker index per 10 ms frame (-1: no speech). ``spans`` are the windows' (start, end)
    seconds, ``regions`` the speech regions the windows were taken from."""
    import numpy as np

    n_frames = int(np.ceil(duration / FRAME_S))
    labels = np.full(n_frames, -1, dtype=int)
    if not len(embeddings):
        return labels
    sims = embeddings @ centres.T  # (windows, speakers)
    k = centres.shape[0]
    score = np.zeros((n_frames, k), dtype=np.float32)
    count = np.zeros(n_frames, dtype=np.float32)
    for (a, b), row in zip(spans, sims):
        i, j = int(a / FRAME_S), min(n_frames, int(np.ceil(b / FRAME_S)))
        score[i:j] += row
        count[i:j] += 1
    best = np.argmax(score, axis=1)  # the speaker the covering windows favour, per frame
    starts = np.array([a for a, _ in spans])
    ends = np.array([b for _, b in spans])
    for a, b in regions:
        i, j = int(a / FRAME_S), min(n_frames, int(np.ceil(b / FRAME_S)))
        labels[i:j] = best[i:j]
        bare = np.flatnonzero(count[i:j] == 0) + i  # frames no window covers: the nearest window's speaker
        if len(bare):
            t = bare[:, None] * FRAME_S
            nearest = np.minimum(np.abs(starts[None, :] - t), np.abs(ends[None, :] - t)).argmin(axis=1)
            labels[bare] = np.argmax(sims[nearest], axis=1)
        _absorb_short_runs(labels, i, j, int(min_turn_s / FRAME_S))
    return labels


def turns_from_frames(labels: Any) -> list[tuple[float, float, int]]:
    """(start_s, end_s, speaker) for each run of one speaker's frames."""
    out: list[tuple[float, float, int]] = []
    start, current = 0, -1
    for f, label in enumerate(list(labels) + [-1]):
        if label != current:
            if current >= 0:
                out.append((round(start * FRAME_S, 2), round(f * FRAME_S, 2), int(current)))
            start, current = f, label
    return out


# ---- helpers ----
def _absorb_small(embeddings: Any, labels: Any, min_share: float) -> Any:
    import numpy as np

    sizes = np.bincount(labels)
    big = [k for k in range(len(sizes)) if sizes[k] >= max(2, min_share * len(labels))]
    if not big or len(big) == len(sizes):
        return labels
    centres = centroids(embeddings, labels)[big]
    out = labels.copy()
    for i, label in enumerate(labels):
        if label not in big:
            out[i] = big[int(np.argmax(centres @ embeddings[i]))]
    return np.unique(out, return_inverse=True)[1]


def _refine(embeddings: Any, labels: Any, rounds: int = 2) -> Any:
    import numpy as np

    for _ in range(rounds):
        new = np.argmax(embeddings @ centroids(embeddings, labels).T, axis=1)
        if len(set(new)) < len(set(labels)) or (new == labels).all():
            break  # never let refinement dissolve a speaker
        labels = new
    return labels


def _by_first_appearance(labels: Any) -> Any:
    import numpy as np

    order: dict[int, int] = {}
    for label in labels:
        order.setdefault(int(label), len(order))
    return np.array([order[int(label)] for label in labels], dtype=int)


def _absorb_short_runs(labels: Any, i: int, j: int, shortest: int) -> None:
    """Within frames ``[i, j)``, give each run shorter than ``shortest`` frames the label of
    the longer neighbouring run (in place)."""
    while True:
        runs = []
        start = i
        for f in range(i + 1, j + 1):
            if f == j or labels[f] != labels[start]:
                runs.append((start, f))
                start = f
        short = [(b - a, n) for n, (a, b) in enumerate(runs) if b - a < shortest and len(runs) > 1]
        if not short:
            return
        _, n = min(short)
        a, b = runs[n]
        left = runs[n - 1] if n > 0 else None
        right = runs[n + 1] if n + 1 < len(runs) else None
        pick = max((r for r in (left, right) if r), key=lambda r: r[1] - r[0])
        labels[a:b] = labels[pick[0]]
