"""Who spoke when, from pyannote's segmentation-3.0 and CAM++ on onnxruntime (no torch).

1. **Local speakers.** The segmentation model reads 10 s windows every ``step_s`` seconds and
   says which of up to three local speakers talk in each 16.875 ms frame (at most two at once):
   speech, short turns and overlap come from here (:mod:`.local_speakers`).
2. **Embeddings.** CAM++ reads the log mel filterbank of the recording in pieces of
   ``embed_chunk_s`` and gives a 512-d feature every 20 ms; each local speaker of each window
   gets the statistics (mean, standard deviation) of the features over the frames where it
   talks alone (all its frames when it never does), through CAM++'s own dense layer: a
   192-d speaker embedding. One CAM++ pass covers the recording once, however many windows
   overlap.
3. **Clustering** of the embeddings heard for at least ``min_embed_s`` into global speakers,
   their number estimated from a distance threshold or given (:mod:`.speaker_clustering`).
4. **Timeline.** Each window's local tracks go to their global speakers and the windows are
   averaged; each frame keeps as many speakers as the windows heard there, so overlapping
   speech stays overlapped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

from . import local_speakers as ls
from .fbank import FRAME as FBANK_FRAME
from .fbank import SHIFT as FBANK_SHIFT
from .fbank import fbank
from .speaker_clustering import assign, cluster

CAMPPLUS_STEP_S = 2 * FBANK_SHIFT / ls.RATE  # CAM++'s features: one every two fbank frames
CAMPPLUS_FEATURES = 512
FBANK_CENTRE_S = 0.0125  # a 25 ms fbank frame's centre from its start


@dataclass
class Settings:
    """The pipeline's knobs (the backend's params; docs/decisions.md says how they were chosen)."""

    step_s: float = 1.0
    onset: float = 0.5
    threshold: float = 0.3
    min_embed_s: float = 2.0
    embed_chunk_s: float = 10.0
    min_gap_s: float = 0.0
    min_turn_s: float = 0.0
    max_speakers: int = 20
    batch: int = 16


@dataclass
class Models:
    """The two onnxruntime sessions and CAM++'s dense layer (``campplus_dense.npz``)."""

    segmentation: Any
    campplus: Any
    dense: dict[str, Any]


def segment(models: Models, samples: Any, settings: Settings, progress: Optional[Callable[[float], None]] = None):
    """Window starts (samples) and ``(windows, frames, 7)`` powerset log-probabilities."""
    import numpy as np

    starts = ls.window_starts(len(samples), max(ls.FRAME_STEP, int(round(settings.step_s * ls.RATE))))
    out = []
    for i in range(0, len(starts), settings.batch):
        batch = np.zeros((len(starts[i : i + settings.batch]), 1, ls.WINDOW), dtype=np.float32)
        for row, s in zip(batch, starts[i : i + settings.batch]):
            piece = samples[s : s + ls.WINDOW]
            row[0, : len(piece)] = piece  # the last window of a short recording ends in silence
        out.append(models.segmentation.run(None, {"waveform": batch})[0])
        if progress:
            progress(min(len(samples), starts[min(i + settings.batch, len(starts)) - 1] + ls.WINDOW) / ls.RATE)
    return starts, np.concatenate(out)


def campplus_frames(models: Models, samples: Any, chunk_s: float) -> tuple[Any, Any]:
    """CAM++'s frame features ``(steps, 512)`` over the whole recording and each one's time (s)."""
    import numpy as np

    size = int(chunk_s * ls.RATE)
    starts = [s for s in range(0, len(samples), size) if len(samples) - s >= FBANK_FRAME]
    counts = [(1 + (min(size, len(samples) - s) - FBANK_FRAME) // FBANK_SHIFT + 1) // 2 for s in starts]
    features = np.zeros((sum(counts), CAMPPLUS_FEATURES), dtype=np.float32)  # filled in place: no copies
    times = np.zeros(len(features))
    at = 0
    for start, count in zip(starts, counts):
        feats = fbank(samples[start : start + size])
        feats -= feats.mean(axis=0, keepdims=True)
        features[at : at + count] = models.campplus.run(["frames"], {"fbank": feats[None]})[0][0].T
        times[at : at + count] = start / ls.RATE + FBANK_CENTRE_S + CAMPPLUS_STEP_S * np.arange(count)
        at += count
    return features, times


def local_embeddings(
    models: Models, activity: Any, starts: list[int], features: Any, times: Any
) -> tuple[Any, Any, Any]:
    """``(windows, 3, 192)`` embeddings of the local speakers, ``(windows, 3)`` seconds each was
    heard alone (or at all, when never alone), and ``(windows, 3)`` whether it talks at all."""
    import numpy as np

    windows = len(starts)
    dim = models.dense["weight"].shape[1]
    embeddings = np.full((windows, ls.LOCAL_SPEAKERS, dim), np.nan, dtype=np.float32)
    heard = np.zeros((windows, ls.LOCAL_SPEAKERS))
    active = activity.sum(axis=1) > 0
    alone = activity * (activity.sum(axis=2, keepdims=True) == 1)
    n_frames = activity.shape[1]
    for w, start in enumerate(starts):
        t0 = start / ls.RATE
        lo, hi = np.searchsorted(times, [t0, t0 + ls.WINDOW / ls.RATE])
        if hi <= lo:
            continue
        index = np.clip(np.round(((times[lo:hi] - t0) * ls.RATE - ls.FRAME_SPAN / 2) / ls.FRAME_STEP), 0, n_frames - 1)
        index = index.astype(int)
        for k in np.flatnonzero(active[w]):
            mask = alone[w, index, k] > 0
            if mask.sum() < 2:
                mask = activity[w, index, k] > 0
            if mask.sum() < 2:
                continue
            chosen = features[lo:hi][mask]
            stats = np.concatenate([chosen.mean(axis=0), chosen.std(axis=0, ddof=1)])
            embeddings[w, k] = (stats @ models.dense["weight"] - models.dense["mean"]) / models.dense["std"]
            heard[w, k] = mask.sum() * CAMPPLUS_STEP_S
    return embeddings, heard, active


def diarize_samples(
    models: Models,
    samples: Any,
    settings: Settings,
    speakers: Optional[int] = None,
    progress: Optional[Callable[[float], None]] = None,
    frames: Optional[Callable[[], tuple[Any, Any]]] = None,
) -> list[tuple[float, float, int]]:
    """(start, end, speaker index) turns of 16 kHz mono ``samples``, speakers numbered in order
    of first appearance, overlapping where two talk at once. ``frames()``, when given, returns
    CAM++'s frame features of ``samples`` (:func:`campplus_frames`; the caller keeps them)."""
    import numpy as np

    if len(samples) < ls.FRAME_SPAN:
        return []
    starts, logits = segment(models, samples, settings, progress)
    activity = ls.local_activity(logits, settings.onset)
    offsets = ls.frame_offsets(starts)
    n_frames = ls.n_global_frames(len(samples))
    count = ls.speaker_count(activity, offsets, n_frames, most=speakers or settings.max_speakers)
    if not count.any():
        return []
    features, times = frames() if frames else campplus_frames(models, samples, settings.embed_chunk_s)
    embeddings, heard, active = local_embeddings(models, activity, starts, features, times)
    active &= ~np.isnan(embeddings).any(axis=2)
    clear = heard >= settings.min_embed_s
    if not clear.any():  # nobody heard long enough: take what there is
        clear = active
    centroids = cluster(
        embeddings[clear],
        threshold=settings.threshold,
        speakers=speakers,
        max_speakers=settings.max_speakers,
    )
    labels = assign(embeddings, active, centroids)
    binary = ls.rebuild(activity, labels, offsets, count, len(centroids))
    turns = ls.to_turns(binary, settings.min_gap_s, settings.min_turn_s)
    order: dict[int, int] = {}
    for _, _, k in turns:
        order.setdefault(k, len(order))
    return [(a, b, order[k]) for a, b, k in turns]


#: Seconds of one speaker's solo speech pooled into one embedding (as a segmentation window).
VOICEPRINT_PIECE_S = 10.0
#: Seconds a piece needs to count; a speaker with none that long is pooled whole.
VOICEPRINT_MIN_S = 1.0


def voiceprints(features: Any, times: Any, dense: dict[str, Any], turns: Any) -> dict[str, tuple[Any, float]]:
    """Each speaker of ``turns`` (``(start, end, label)``) → a unit 192-d voice embedding and the
    seconds it was made from: CAM++'s embeddings of the speaker's solo speech, pooled per
    :data:`VOICEPRINT_PIECE_S` piece as the diarizer pools a window's local speaker, averaged
    over the pieces by their length. Overlapped speech is left out (it is where another voice
    leaks in); a speaker heard only in overlap has no voiceprint."""
    import numpy as np

    from .speaker_clustering import unit

    who: dict[str, Any] = {}
    for start, end, label in turns:
        lo, hi = np.searchsorted(times, [start, end])
        who.setdefault(label, np.zeros(len(times), dtype=np.int32))[lo:hi] = 1
    talking = sum(who.values()) if who else np.zeros(len(times), dtype=np.int32)
    piece = np.floor(times / VOICEPRINT_PIECE_S).astype(int)
    least = max(2, int(VOICEPRINT_MIN_S / CAMPPLUS_STEP_S))
    out: dict[str, tuple[Any, float]] = {}
    for label, mask in who.items():
        solo = (mask > 0) & (talking == 1)
        if solo.sum() < 2:
            continue
        groups = [solo & (piece == p) for p in np.unique(piece[solo])]
        groups = [g for g in groups if g.sum() >= least] or [solo]
        vectors, weights = [], []
        for g in groups:
            chosen = features[g]
            stats = np.concatenate([chosen.mean(axis=0), chosen.std(axis=0, ddof=1)])
            vectors.append(unit((stats @ dense["weight"] - dense["mean"]) / dense["std"]))
            weights.append(g.sum())
        mean = unit(np.average(np.stack(vectors), axis=0, weights=np.asarray(weights, dtype=np.float64)))
        out[label] = (mean, float(solo.sum() * CAMPPLUS_STEP_S))
    return out
