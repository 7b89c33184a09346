"""Loaded models kept between runs, for a front end that serves many requests (``task=ui``).

A run normally loads its models and unloads them when it ends. Given a :class:`ModelCache`,
``RunContext.model`` borrows a model from it instead: the first run that needs a model (the
same reference, capability order, backend options) loads it, later runs get it warm. The
cache is bounded: past ``limit`` models, the least recently used one that no run is using is
unloaded. Each model serves one call at a time (its capability methods take a per-model
lock), so two runs sharing a model never interleave inside it; different models run side
by side.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..backends import MODEL_METHODS


@dataclass
class _Entry:
    model: Any = None  # a tasks.Model once loaded
    users: int = 0
    loading: threading.Lock = field(default_factory=threading.Lock)


class ModelCache:
    """At most ``limit`` loaded models (more while runs hold them), least recently used first out."""

    def __init__(self, limit: int = 3):
        self.limit = max(1, int(limit))
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # models loaded so far (a warm borrow loads nothing)

    def borrow(
        self, key: Hashable, load: Callable[[], Any], methods: Iterable[str] = MODEL_METHODS
    ) -> tuple[Any, bool]:
        """The model for ``key`` and whether it was already loaded; ``load()`` makes it once
        (concurrent borrowers of one key wait for the first), and its ``methods`` (the declared
        capabilities', ``Session.model_methods()``) run one call at a time. Pair with
        :meth:`give_back`."""
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
            entry.users += 1
            self._entries.move_to_end(key)
        try:
            with entry.loading:
                warm = entry.model is not None
                if not warm:
                    entry.model = load()
                    _serialise_calls(entry.model.backend, methods)
                    self.loads += 1
        except BaseException:
            with self._lock:
                entry.users -= 1
                if entry.model is None and entry.users == 0:
                    self._entries.pop(key, None)
            raise
        self._evict()
        return entry.model, warm

    def give_back(self, key: Hashable) -> None:
        """A run is done with ``key``'s model; idle models beyond the limit are unloaded."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.users = max(0, entry.users - 1)
        self._evict()

    def keys(self) -> list[Hashable]:
        """The loaded models' keys, least recently used first."""
        with self._lock:
            return [k for k, e in self._entries.items() if e.model is not None]

    def clear(self) -> None:
        """Unload every model (the server is stopping)."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            _unload(entry)

    def _evict(self) -> None:
        with self._lock:
            loaded = [(k, e) for k, e in self._entries.items() if e.model is not None]
            excess = len(loaded) - self.limit
            gone = []
            for k, e in loaded:
                if excess <= 0:
                    break
                if e.users == 0:
                    gone.append(self._entries.pop(k))
                    excess -= 1
        for entry in gone:
            _unload(entry)


def _unload(entry: _Entry) -> None:
    if entry.model is not None:
        with getattr(entry.model.backend, "_taskdeck_call_lock", threading.RLock()):
            entry.model.backend.unload()
        entry.model = None


def _serialise_calls(backend: Any, methods: Iterable[str]) -> None:
    """Wrap the backend's model methods on the instance so one call runs at a time."""
    lock = threading.RLock()  # re-entrant: a method may call another (chat -> count_tokens)
    backend._taskdeck_call_lock = lock
    for name in methods:
        method = getattr(backend, name, None)
        if callable(method):
            setattr(backend, name, _locked(method, lock))


def _locked(method: Callable[..., Any], lock: Any) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return call
