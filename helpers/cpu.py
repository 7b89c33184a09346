"""How many CPUs this process may use (its affinity, not the machine's count)."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """CPUs the process may run on: the scheduler affinity where the OS has one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)
