"""What a running task may use: models by capability, progress, streaming, metrics."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence, TextIO

from .backends import Backend, BackendParams
from .errors import CapabilityError, MissingDependencyError, TaskdeckError
from .metrics import Stopwatch
from .models import ModelRef, remote, resolve

if TYPE_CHECKING:
    from .plugin_manager import Session


class RunContext:
    """Handed to ``Task.run``. Tasks ask for a model by the capabilities they can use.

    ``backend_params`` is the ``backend`` config node (a Params dataclass instance).
    """

    def __init__(self, session: "Session", backend_params: Any, run_dir: Optional[Path] = None,
                 stream: TextIO = sys.stdout, quiet: bool = False):
        self.session = session
        self.backend_params = backend_params
        self.run_dir = run_dir
        self.stream = stream
        self.quiet = quiet
        self.metrics: dict[str, Any] = {}
        self.watch = Stopwatch()
        self._loaded: dict[tuple, tuple[Backend, str]] = {}
        self.models_used: list[dict[str, Any]] = []
        self._used_by: dict[int, dict[str, Any]] = {}  # backend id -> its models_used entry

    # ---- models ----
    def model(self, ref: str, needs: Sequence[str], backend: Any = None,
              options: Optional[dict] = None) -> tuple[Backend, str]:
        """Load ``ref`` on the configured backend; return it and the first capability in
        ``needs`` (in the task's order of preference) that it offers for this model.
        ``backend`` (a backend name or Params instance) overrides the run's ``backend=``
        for this model, e.g. a task with two independently configured models; ``options``
        (e.g. ``{"n_ctx": 8192}``) are set on the chosen backend's Params where it has them.
        A model already loaded in this run is reused."""
        chosen = self.backend_for(backend) if backend is not None else self.backend_params
        key = (ref, tuple(needs), repr(chosen), repr(options))
        if key in self._loaded:
            return self._loaded[key]
        mref = self._resolve(ref, chosen)
        saved, self.backend_params = self.backend_params, chosen
        try:
            instance = self._choose(mref, needs)
        finally:
            self.backend_params = saved
        if options:
            settable = {f.name for f in dataclasses.fields(instance.params)}
            instance.params = dataclasses.replace(
                instance.params, **{k: v for k, v in options.items() if k in settable})
        offered = instance.capabilities()
        capability = next(c for c in needs if c in offered)
        with self.watch.time("load"):
            instance.load()
        self._loaded[key] = (instance, capability)
        self.models_used.append({"model": mref.ref, "backend": instance.name, "capability": capability})
        self._used_by[id(instance)] = self.models_used[-1]
        return instance, capability

    def _resolve(self, ref: str, params: Any) -> ModelRef:
        """``ref`` as a model reference; a backend with ``remote = True`` (an API) takes the
        name as the server's, not as an alias, path or Hub id."""
        name = getattr(params, "name", "auto") or "auto"
        if name != "auto" and getattr(self.session.backends.get(name), "remote", False):
            return remote(ref)
        return resolve(ref, self.session.packs)

    def _choose(self, mref: ModelRef, needs: Sequence[str]) -> Backend:
        requested = getattr(self.backend_params, "name", "auto") or "auto"
        if requested != "auto":
            cls = self.session.backends.get(requested)
            return self._check(cls, mref, needs, self._params_for(cls))
        candidates = [cls for _, cls in self.session.backends.items() if mref.format in cls.formats]
        able = [cls for cls in candidates if any(c in cls.all_capabilities for c in needs)]
        candidates = able or candidates  # none able: the first candidate's error says why
        candidates.sort(key=lambda c: getattr(c, "priority", 100))
        if not candidates:
            raise CapabilityError(f"no backend loads '{mref.ref}' (format {mref.format}); "
                                  f"backends: {', '.join(self.session.backends.names())}")
        problems: list[TaskdeckError] = []
        for cls in candidates:
            try:
                return self._check(cls, mref, needs, self._params_for(cls))
            except TaskdeckError as exc:
                problems.append(exc)
        # Prefer telling the user what to install over what a backend cannot do.
        raise next((p for p in problems if isinstance(p, MissingDependencyError)), problems[0])

    def backend_for(self, spec: Any) -> Any:
        """A backend Params instance from a name (``"openai"``, ``"auto"``), a dict with
        ``name`` and options, or a Params instance (returned as is).

        A name equal to the run's ``backend=`` gives that node, with every option the user
        set on it; another name gets its defaults plus the run's common options (device,
        threads)."""
        if dataclasses.is_dataclass(spec) and not isinstance(spec, type):
            return spec
        options = dict(spec) if isinstance(spec, dict) else {"name": str(spec)}
        name = str(options.get("name") or "auto")
        given = self.backend_params
        if name == (getattr(given, "name", "auto") or "auto") and len(options) == 1:
            return given
        cls = BackendParams if name == "auto" else self.session.backends.get(name).Params
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            from .errors import ConfigError
            raise ConfigError(f"backend '{name}' has no option '{unknown[0]}'; options: {', '.join(sorted(known))}")
        common = {f.name: getattr(given, f.name) for f in dataclasses.fields(BackendParams)
                  if f.name != "name" and hasattr(given, f.name)}
        return cls(**{**common, **options, "name": name})

    def _params_for(self, cls: type[Backend]) -> Any:
        """The backend's Params: the config node itself, or (backend=auto) the backend's
        defaults with the common options (device, threads) taken from the auto node."""
        given = self.backend_params
        if isinstance(given, cls.Params):
            return given
        common = {f.name: getattr(given, f.name) for f in dataclasses.fields(BackendParams)
                  if hasattr(given, f.name) and f.name != "name"}
        return cls.Params(**common)

    def _check(self, cls: type[Backend], mref: ModelRef, needs: Sequence[str], params: Any) -> Backend:
        if mref.format not in cls.formats:
            loaders = [(n, c) for n, c in self.session.backends.items() if mref.format in c.formats]
            able = [n for n, c in loaders if any(x in c.all_capabilities for x in needs)]
            others = able or [n for n, _ in loaders]
            raise CapabilityError(f"backend '{cls.name}' cannot load '{mref.ref}' ({mref.format} format); "
                                  f"use backend={others[0] if others else 'auto'}")
        missing = cls.missing_package()
        if missing:
            raise MissingDependencyError(missing, f"backend '{cls.name}'", cls.extra or None)
        backend = cls(mref, params)
        offered = backend.capabilities()
        if not any(c in offered for c in needs):
            able = [n for n, c in self.session.backends.items() if any(x in c.all_capabilities for x in needs)]
            raise CapabilityError(
                f"model '{mref.ref}' on backend '{cls.name}' offers {', '.join(sorted(offered)) or 'nothing'}, "
                f"but this task needs one of: {', '.join(needs)}"
                + (f"; backends that can: {', '.join(able)}" if able else ""))
        return backend

    def close(self) -> None:
        """Record each model's usage with its ``models_used`` entry, then unload it."""
        for backend, _ in self._loaded.values():
            self._used_by.get(id(backend), {}).update(backend.usage())
            backend.unload()
        self._loaded.clear()

    # ---- user-facing progress and streaming ----
    def progress(self, items: Iterable[Any], total: Optional[int] = None, desc: str = "") -> Iterable[Any]:
        """A tqdm progress bar on stderr (hidden when quiet or not a terminal)."""
        from tqdm.auto import tqdm
        return tqdm(items, total=total, desc=desc, disable=self.quiet or None, file=sys.stderr,
                    dynamic_ncols=True, leave=False)

    def emit(self, text: str) -> None:
        """Stream generated text to the terminal as it arrives."""
        if not self.quiet:
            self.stream.write(text)
            self.stream.flush()
