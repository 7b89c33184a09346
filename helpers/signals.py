"""Stopping a server the same way on SIGINT (Ctrl-C) and SIGTERM (systemd, Docker, Ray, Slurm, ``kill``).

A job a shell starts in the background without job control inherits SIGINT as ignored, and
Python then installs no ``KeyboardInterrupt`` handler, so ``kill -INT`` would never reach it.
A server (``task=ui``, ``task=serve``) serves inside :func:`stoppable`, where both signals
raise in the main thread whatever the parent ignored, as uvicorn's own handlers do.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Optional

from taskdeck.errors import Terminated

__all__ = ["stoppable", "terminate_on_sigterm"]


def _interrupt(signum: int, frame: Optional[FrameType]) -> None:
    raise KeyboardInterrupt


def _terminate(signum: int, frame: Optional[FrameType]) -> None:
    raise Terminated


def terminate_on_sigterm() -> None:
    """From now on SIGTERM stops the command as Ctrl-C does (raising :class:`~taskdeck.errors.Terminated`
    in the main thread), so a batch keeps what finished and ``result.json`` says why it stopped."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


@contextmanager
def stoppable(on_signal: Optional[Callable[[int], None]] = None) -> Iterator[None]:
    """Within this block SIGINT raises ``KeyboardInterrupt`` and SIGTERM :class:`~taskdeck.errors.Terminated`
    (a ``KeyboardInterrupt``) in the main thread, or, given ``on_signal``, both call it with the
    signal's number (a server asked to stop its loop); the previous handlers come back after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def call(signum: int, frame: Optional[FrameType]) -> None:
        assert on_signal is not None
        on_signal(signum)

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, call if on_signal else _interrupt),
        signal.SIGTERM: signal.signal(signal.SIGTERM, call if on_signal else _terminate),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
