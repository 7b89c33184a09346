"""Local speakers of pyannote's segmentation model over sliding windows, and the timeline rebuilt
from them.

The model reads 10 s windows and answers, every 16.875 ms, which of three *local* speakers talk
(a powerset class: nobody, one of them, or two at once). Windows slide by ``step`` seconds, so
every frame of the recording is seen by several windows:

- :func:`local_activity` turns each window's powerset classes into three yes/no tracks;
- :func:`speaker_count` averages, per frame of the recording, how many speakers the windows
  covering it hear (rounded): how many speakers the rebuilt timeline holds at that frame;
- :func:`rebuild` puts every window's local tracks on their global speakers (from clustering),
  averages the windows per frame, and keeps at each frame the ``count`` best-supported speakers,
  so overlapping speech stays overlapped;
- :func:`to_turns` reads each speaker's runs of frames as turns, bridging short gaps.
"""

from __future__ import annotations

from typing import Any

RATE = 16000
WINDOW = 160000  # 10 s
FRAME_STEP = 270  # samples between two output frames (16.875 ms)
FRAME_SPAN = 991  # samples each output frame sees (its receptive field)
#: The powerset classes of segmentation-3.0: which local speakers each one means.
POWERSET = ((), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
LOCAL_SPEAKERS = 3


def window_starts(n_samples: int, step: int) -> list[int]:
    """First sample of each window: every ``step`` samples, and a last one ending at the end."""
    if n_samples <= WINDOW:
        return [0]
    starts = list(range(0, n_samples - WINDOW + 1, step))
    if starts[-1] + WINDOW < n_samples:
        starts.append(n_samples - WINDOW)
    return starts


def local_activity(logits: Any, threshold: float = 0.5) -> Any:
    """``(windows, frames, 3)`` 0/1 tracks of the local speakers from ``(windows, frames, 7)``
    powerset log-probabilities: a speaker talks where the classes that hold it are more likely
    than ``threshold`` together."""
    import numpy as np

    mapping = np.zeros((len(POWERSET), LOCAL_SPEAKERS), dtype=np.float32)
    for cls, speakers in enumerate(POWERSET):
        mapping[cls, list(speakers)] = 1.0
    return ((np.exp(logits) @ mapping) > threshold).astype(np.float32)


def frame_offsets(starts: list[int]) -> Any:
    """The global frame index of each window's first frame."""
    import numpy as np

    return np.round(np.asarray(starts) / FRAME_STEP).astype(int)


def n_global_frames(n_samples: int) -> int:
    return max(1, int(round(n_samples / FRAME_STEP)))


def _spread(values: Any, offsets: Any, n_frames: int, shape: tuple[int, int]) -> tuple[Any, Any]:
    """Sum per global frame of each window's ``shape`` = ``(frames, k)`` values (an array or an
    iterable of them, one per window), and how many windows cover each frame."""
    import numpy as np

    frames, k = shape
    total = np.zeros((n_frames + frames, k), dtype=np.float32)
    covered = np.zeros(n_frames + frames, dtype=np.float32)
    for offset, value in zip(offsets, values):
        total[offset : offset + frames] += value
        covered[offset : offset + frames] += 1
    return total[:n_frames], covered[:n_frames]


def speaker_count(activity: Any, offsets: Any, n_frames: int, most: int) -> Any:
    """How many speakers talk at each global frame (0..``most``)."""
    import numpy as np

    total, covered = _spread(activity.sum(axis=2, keepdims=True), offsets, n_frames, (activity.shape[1], 1))
    return np.minimum(np.round(total[:, 0] / np.maximum(covered, 1)), most).astype(int)


def rebuild(activity: Any, labels: Any, offsets: Any, count: Any, n_speakers: int) -> Any:
    """``(frames, n_speakers)`` 0/1 activity of the global speakers. ``labels[w, k]`` is local
    speaker ``k`` of window ``w``'s global speaker, or -1 when it is silent."""
    import numpy as np

    def tracks(w: int) -> Any:
        out = np.zeros((activity.shape[1], n_speakers), dtype=np.float32)
        for k in range(LOCAL_SPEAKERS):
            if labels[w, k] >= 0:
                out[:, labels[w, k]] = np.maximum(out[:, labels[w, k]], activity[w, :, k])
        return out

    windows = (tracks(w) for w in range(len(activity)))
    total, covered = _spread(windows, offsets, len(count), (activity.shape[1], n_speakers))
    score = total / np.maximum(covered, 1)[:, None]
    out = np.zeros_like(score)
    order = np.argsort(-score, axis=1)
    for c in range(1, min(int(count.max(initial=0)), n_speakers) + 1):
        rows = np.flatnonzero(count >= c)
        picked = order[rows, c - 1]
        keep = score[rows, picked] > 0
        out[rows[keep], picked[keep]] = 1.0
    return out


def frame_time(index: Any) -> Any:
    """Start time (s) of a global frame's stretch: the frame's centre less half a step."""
    return (index * FRAME_STEP + (FRAME_SPAN - FRAME_STEP) / 2) / RATE


def to_turns(binary: Any, min_gap_s: float = 0.0, min_turn_s: float = 0.0) -> list[tuple[float, float, int]]:
    """(start, end, speaker) runs of each speaker's active frames, in time order; gaps shorter
    than ``min_gap_s`` inside one speaker's speech are bridged, then runs shorter than
    ``min_turn_s`` dropped."""
    import numpy as np

    turns: list[tuple[float, float, int]] = []
    for k in range(binary.shape[1]):
        active = np.concatenate([[0], binary[:, k] > 0, [0]]).astype(int)
        edges = np.flatnonzero(np.diff(active))
        runs: list[list[float]] = []
        for a, b in zip(edges[::2], edges[1::2]):
            start, end = float(frame_time(a)), float(frame_time(b))
            if runs and start - runs[-1][1] < min_gap_s:
                runs[-1][1] = end
            else:
                runs.append([start, end])
        turns += [(round(a, 3), round(b, 3), k) for a, b in runs if b - a >= min_turn_s]
    return sorted(turns)
