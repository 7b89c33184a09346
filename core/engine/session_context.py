"""The run context the engine makes: models loaded through the plugin session.

A run borrows its models from a :class:`~taskdeck.engine.model_cache.ModelCache` when it is
given one (a server's, so they stay loaded between runs); without one, it loads its own and
unloads them on ``close``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO

from ..backends import Backend, BackendParams
from ..context import Catalog, Model, RunContext
from ..errors import CapabilityError, ConfigError, MissingDependencyError, TaskdeckError
from ..models import ModelRef, remote, resolve
from ..params import check_values
from .config import preset_names

if TYPE_CHECKING:
    from .model_cache import ModelCache
    from .plugin_manager import Session


class SessionContext(RunContext):
    """A :class:`~taskdeck.RunContext` over a plugin session; ``close`` records each model's
    usage and unloads it (or gives it back to the cache)."""

    def __init__(
        self,
        session: Session,
        backend_params: Any,
        run_dir: Optional[Path] = None,
        stream: TextIO = sys.stdout,
        quiet: bool = False,
        models: Optional[ModelCache] = None,
    ):
        super().__init__(backend_params, run_dir, stream, quiet)
        self._session = session
        self._cache = models  # a front end's models, kept between runs (None: this run's own)
        self._borrowed: set[tuple] = set()
        self._loaded: dict[tuple, Model] = {}
        self.models_used: list[dict[str, Any]] = []
        self._used_by: dict[int, dict[str, Any]] = {}  # backend id -> its models_used entry

    # ---- models ----
    def model(
        self, ref: str, needs: Sequence[str], backend: Any = None, options: Optional[dict[str, Any]] = None
    ) -> Model:
        """Load ``ref`` and return it with the first capability in ``needs`` (the task's order of
        preference) that it offers. ``backend`` (a backend name, a dict with ``name`` and
        options, or a Params instance) overrides the run's ``backend=`` for this model, e.g. a
        task with two independently configured models; ``options`` (e.g. ``{"n_ctx": 8192}``)
        are set on the chosen backend's Params where it has them. A model already loaded in
        this run is reused."""
        chosen = self.backend_for(backend) if backend is not None else self.backend_params
        key = (ref, tuple(needs), repr(chosen), repr(options))
        if key in self._loaded:
            return self._loaded[key]
        warm = False
        if self._cache is None:
            loaded = self._load(ref, needs, chosen, options)
        else:
            loaded, warm = self._cache.borrow(
                key, lambda: self._load(ref, needs, chosen, options), self._session.model_methods()
            )
            self._borrowed.add(key)
        self._loaded[key] = loaded
        entry = {"model": loaded.backend.model.ref, "backend": loaded.backend.name, "capability": loaded.capability}
        self.models_used.append({**entry, "warm": True} if warm else entry)
        self._used_by[id(loaded.backend)] = self.models_used[-1]
        return loaded

    def _load(self, ref: str, needs: Sequence[str], chosen: Any, options: Optional[dict[str, Any]]) -> Model:
        mref = self._resolve(ref, chosen)
        instance = self._choose(mref, needs, chosen)
        if options:
            settable = {f.name for f in dataclasses.fields(instance.params)}
            instance.params = dataclasses.replace(
                instance.params, **{k: v for k, v in options.items() if k in settable}
            )
        check_values(instance.params, prefix="backend.")
        offered = instance.capabilities()
        capability = next(c for c in needs if c in offered)
        instance.capability = capability
        with self.watch.time("load"):
            instance.load()
        return Model(instance, capability)

    def _resolve(self, ref: str, params: Any) -> ModelRef:
        """``ref`` as a model reference; a backend with ``remote = True`` (an API) takes the
        name as the server's, not as an alias, path or Hub id."""
        name = getattr(params, "name", "auto") or "auto"
        if name != "auto" and self._session.backends.get(name).remote:
            return remote(ref)
        return resolve(ref, self._session.packs)

    def _choose(self, mref: ModelRef, needs: Sequence[str], given: Any) -> Backend:
        requested = getattr(given, "name", "auto") or "auto"
        backends = self._session.backends
        if requested != "auto":
            cls = backends.get(requested)
            return self._check(cls, mref, needs, _params_for(cls, given))
        candidates = [cls for _, cls in backends.items() if mref.format in cls.formats]
        able = [cls for cls in candidates if any(c in cls.all_capabilities for c in needs)]
        candidates = sorted(able or candidates, key=lambda c: c.priority)  # none able: the first one's error says why
        if not candidates:
            raise CapabilityError(
                f"no backend loads '{mref.ref}' (format {mref.format}); backends: {', '.join(backends.names())}"
            )
        problems: list[TaskdeckError] = []
        for cls in candidates:
            try:
                return self._check(cls, mref, needs, _params_for(cls, given))
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
        cls = BackendParams if name == "auto" else self._session.backends.get(name).Params
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"backend '{name}' has no option '{unknown[0]}'; options: {', '.join(sorted(known))}")
        return cls(**{**_common_options(given), **options, "name": name})

    def _check(self, cls: type[Backend], mref: ModelRef, needs: Sequence[str], params: Any) -> Backend:
        backends = self._session.backends
        if mref.format not in cls.formats:
            loaders = [(n, c) for n, c in backends.items() if mref.format in c.formats]
            able = [n for n, c in loaders if any(x in c.all_capabilities for x in needs)]
            others = able or [n for n, _ in loaders]
            raise CapabilityError(
                f"backend '{cls.name}' cannot load '{mref.ref}' ({mref.format} format); "
                f"use backend={others[0] if others else 'auto'}"
            )
        missing = cls.missing_package()
        if missing:
            raise MissingDependencyError(missing, f"backend '{cls.name}'", cls.extra or None)
        backend = cls(mref, params)
        offered = backend.capabilities()
        if not any(c in offered for c in needs):
            able = [n for n, c in backends.items() if any(x in c.all_capabilities for x in needs)]
            raise CapabilityError(
                f"model '{mref.ref}' on backend '{cls.name}' offers {', '.join(sorted(offered)) or 'nothing'}, "
                f"but this task needs one of: {', '.join(needs)}"
                + (f"; backends that can: {', '.join(able)}" if able else "")
            )
        return backend

    def close(self) -> None:
        """Record each model's usage with its ``models_used`` entry, then unload it (or give
        it back to the cache it was borrowed from)."""
        for key, loaded in self._loaded.items():
            self._used_by.get(id(loaded.backend), {}).update(loaded.backend.usage())
            if key in self._borrowed:
                assert self._cache is not None
                self._cache.give_back(key)
            else:
                loaded.backend.unload()
        self._loaded.clear()
        self._borrowed.clear()

    # ---- what is registered ----
    @property
    def catalog(self) -> Catalog:
        s = self._session
        owners = {
            f"{what}:{n}": reg.owner(n)
            for what, reg in (
                ("capability", s.capabilities),
                ("task", s.tasks),
                ("backend", s.backends),
                ("output", s.formatters),
                ("model", s.packs),
            )
            for n in reg.names()
        }
        return Catalog(
            capabilities=dict(s.capabilities.items()),
            tasks=dict(s.tasks.items()),
            backends=dict(s.backends.items()),
            formatters=dict(s.formatters.items()),
            packs=dict(s.packs.items()),
            owners=owners,
            broken=tuple(s.broken),
            third_party={name: (declared, s.version_notes.get(name, "")) for name, declared in s.declared_api.items()},
            presets=lambda group: preset_names(s, group),
        )


def _common_options(given: Any) -> dict[str, Any]:
    """The options every backend shares (device, threads), as the run's backend node sets them."""
    return {
        f.name: getattr(given, f.name)
        for f in dataclasses.fields(BackendParams)
        if f.name != "name" and hasattr(given, f.name)
    }


def _params_for(cls: type[Backend], given: Any) -> Any:
    """The backend's Params: the config node itself, or (``backend=auto``) the backend's
    defaults with the common options (device, threads) taken from the auto node."""
    if isinstance(given, cls.Params):
        return given
    return cls.Params(**_common_options(given))
