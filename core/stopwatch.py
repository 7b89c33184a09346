"""Timings and memory for result.json."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB since :func:`reset_peaks` (Linux: VmHWM;
    elsewhere the process's peak, ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            hwm = next(ln for ln in f if ln.startswith("VmHWM:"))
        return round(int(hwm.split()[1]) / 1024, 1)
    except (OSError, StopIteration, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def reset_peaks() -> None:
    """Start peak memory over (several jobs of a multirun share one process): Linux resets
    VmHWM through ``/proc/self/clear_refs``; torch's CUDA peak when torch is in use."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_gpu_mb() -> float | None:
    """Peak CUDA memory allocated by torch, when torch is already in use and on a GPU."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


class Stopwatch:
    """Accumulates named durations: ``with sw.time("load"): ...``."""

    def __init__(self) -> None:
        self.spans: dict[str, float] = {}

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.spans[name] = self.spans.get(name, 0.0) + time.perf_counter() - t0
