"""Local speakers' embeddings → global speakers.

1. Agglomerative clustering (scipy, average linkage on cosine distance) of the embeddings of the
   local speakers heard clearly enough: groups join while their distance stays under
   ``threshold``, or until ``speakers`` groups remain when the number is known.
2. Every local speaker of every window is assigned to a centroid, the local speakers of one
   window to *different* centroids (the Hungarian method on their similarities): two voices
   the segmentation model told apart within 10 s are never merged.
"""

from __future__ import annotations

from typing import Any


def unit(x: Any) -> Any:
    import numpy as np

    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


def cluster(embeddings: Any, *, threshold: float, speakers: int | None = None, max_speakers: int = 20) -> Any:
    """``(k, dim)`` unit centroids of the speakers among ``embeddings`` ``(n, dim)``."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    x = unit(np.asarray(embeddings, dtype=np.float64))
    if len(x) == 0:
        return np.zeros((0, x.shape[1] if x.ndim == 2 else 0))
    if len(x) == 1 or speakers == 1:
        return unit(x.mean(axis=0, keepdims=True))
    tree = linkage(x, method="average", metric="cosine")
    if speakers:
        labels = fcluster(tree, t=min(speakers, len(x)), criterion="maxclust") - 1
    else:
        labels = fcluster(tree, t=threshold, criterion="distance") - 1
        if labels.max() + 1 > max_speakers:
            labels = fcluster(tree, t=max_speakers, criterion="maxclust") - 1
    groups = sorted(set(labels.tolist()))
    return unit(np.stack([x[labels == k].mean(axis=0) for k in groups]))


def assign(embeddings: Any, active: Any, centroids: Any) -> Any:
    """``(windows, local)`` global speaker of each active local speaker (-1 for the silent
    ones); ``embeddings`` is ``(windows, local, dim)``, ``active`` ``(windows, local)`` bool.
    Within a window, local speakers go to distinct centroids while there are enough."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    windows, local, _ = embeddings.shape
    labels = np.full((windows, local), -1, dtype=int)
    if not len(centroids):
        return labels
    sims = unit(np.nan_to_num(embeddings)) @ centroids.T  # (windows, local, k)
    for w in range(windows):
        rows = np.flatnonzero(active[w])
        if not len(rows):
            continue
        if len(rows) <= len(centroids):
            r, c = linear_sum_assignment(-sims[w, rows])
            labels[w, rows[r]] = c
        else:  # more voices than speakers: each to its nearest
            labels[w, rows] = np.argmax(sims[w, rows], axis=1)
    return labels
