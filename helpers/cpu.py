"""How many CPUs this process may use (its affinity, not the machine's count)."""

from __future__ import annotations

import math
import os
import sys


def available_cpus() -> int:
    """CPUs the process may run on: the scheduler affinity where the OS has one, and within a
    Ray task the CPUs Ray gave it (``num_cpus``), so jobs sharing a node do not oversubscribe it."""
    try:
        cpus = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        cpus = max(1, os.cpu_count() or 1)
    granted = ray_cpus()
    return min(cpus, granted) if granted else cpus


def ray_cpus() -> int:
    """The CPUs of the Ray task this process runs (rounded up); 0 outside one. Ray is only
    asked when it is already imported: a Ray worker has imported it, nothing else needs to."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return 0
    try:
        context = ray.get_runtime_context()
        if context.worker.mode != ray.WORKER_MODE:
            return 0
        return max(1, math.ceil(context.get_assigned_resources().get("CPU", 0)))
    except Exception:  # noqa: BLE001 - a Ray without this API: the affinity alone
        return 0
