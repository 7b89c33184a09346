"""Builds the pluggy manager, loads built-in and third-party plugins, fills the registries.

Built-ins are found and registered exactly like third-party plugins: both come from the
entry-point group ``taskdeck`` (the built-ins are the taskdeck distribution's own entry
points), loaded one at a time: a plugin that fails to import or
to register is recorded (name + reason) and the others still load. ``TASKDECK_PLUGINS``
restricts which third-party plugins load (comma-separated names; empty: none).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

import pluggy

from .. import hookspecs
from ..errors import TaskdeckError
from ..plugin_api import DECLARATION, BrokenPlugin, PluginContractError, check_declared
from ..registry import Registry

ENTRY_POINT_GROUP = "taskdeck"
RESTRICT_ENV = "TASKDECK_PLUGINS"

#: The distribution whose entry points in the group are the built-in plugins.
DISTRIBUTION = "taskdeck"


@dataclass
class Session:
    """Everything the plugins registered, plus the plugins that failed to load."""

    pm: pluggy.PluginManager
    capabilities: Registry = field(default_factory=lambda: Registry("capability"))
    tasks: Registry = field(default_factory=lambda: Registry("task"))
    backends: Registry = field(default_factory=lambda: Registry("backend"))
    formatters: Registry = field(default_factory=lambda: Registry("output format"))
    packs: Registry = field(default_factory=lambda: Registry("model pack"))
    config_paths: list[str] = field(default_factory=list)
    structured_configs: list[dict[str, Any]] = field(default_factory=list)
    broken: list[BrokenPlugin] = field(default_factory=list)
    plugin_names: list[str] = field(default_factory=list)
    #: Third-party plugin → the plugin API version it declares (None: not declared).
    declared_api: dict[str, Optional[str]] = field(default_factory=dict)
    #: Third-party plugin → one line about the version it declares, where this taskdeck does not match it.
    version_notes: dict[str, str] = field(default_factory=dict)
    #: One line per backend that offers a capability nobody declares, or lacks one of its methods.
    capability_notes: list[str] = field(default_factory=list)

    def model_methods(self) -> tuple[str, ...]:
        """The backend methods that use a loaded model: every declared capability's, and
        ``count_tokens`` (a model cache lets one of them run at a time per model)."""
        names = (m for c in self.capabilities.names() for m in self.capabilities.get(c).methods)
        return ("count_tokens", *dict.fromkeys(names))


@dataclass(frozen=True)
class Alias:
    """A task's other name, staged with the task."""

    name: str


def _collect(session: Session, plugin: Any, name: str) -> None:
    """Call the plugin's hook implementations and register what they give, all or nothing:
    a plugin that fails halfway (or clashes with a registered name) leaves no trace."""
    staged: list[tuple[Registry, str, Any]] = []
    configs: list[tuple[str | None, dict]] = []
    hooks = {
        "register_capabilities": lambda c: staged.append((session.capabilities, c.name, c)),
        "register_tasks": lambda cls: staged.extend(
            [(session.tasks, cls.name, cls), *((session.tasks, a, Alias(cls.name)) for a in cls.aliases)]
        ),
        "register_backends": lambda cls: staged.append((session.backends, cls.name, cls)),
        "register_formatters": lambda f: staged.append((session.formatters, f.name, f)),
        "register_model_packs": lambda p: staged.append((session.packs, p.alias, p)),
        "register_configs": lambda search_path=None, **node: configs.append((search_path, node)),
    }
    for hook_name, register in hooks.items():
        for impl in getattr(session.pm.hook, hook_name).get_hookimpls():
            if impl.plugin is plugin:
                checked = _checked(hook_name, register)
                returned = impl.function(**({"register": checked} if "register" in impl.argnames else {}))
                if returned is not None:
                    raise PluginContractError(
                        f"{hook_name} returned a {type(returned).__name__}: call register(...) for each "
                        "thing it adds and return nothing"
                    )
    trial: dict[int, Registry[Any]] = {id(reg): Registry(reg.what) for reg, _, _ in staged}
    for reg, item_name, _ in staged:  # raises on a clash before anything is added
        if item_name in reg:
            reg.add(item_name, None, name)
        trial[id(reg)].add(item_name, None, name)
    for _, node in configs:
        if node and not {"name", "node"} <= set(node):
            raise TaskdeckError(
                f"plugin '{name}': register_configs needs name= and node= (and usually group=) for a structured config"
            )
    for reg, item_name, item in staged:
        if isinstance(item, Alias):
            reg.add_alias(item_name, item.name, name)
        else:
            reg.add(item_name, item, name)
    for search_path, node in configs:
        if search_path:
            session.config_paths.append(search_path)
        if node:
            session.structured_configs.append(node)


def _expected(hook_name: str) -> tuple[type, bool, str, str]:
    """What a hook's ``register`` takes: a base type, whether a class (else an instance), how
    to say it, and the attribute that names it."""
    from ..backends import Backend
    from ..capabilities import Capability
    from ..formatters import Formatter
    from ..packs import ModelPack
    from ..tasks import Task

    return {
        "register_capabilities": (Capability, False, "a taskdeck.Capability", "name"),
        "register_tasks": (Task, True, "a taskdeck.Task subclass", "name"),
        "register_backends": (Backend, True, "a taskdeck.Backend subclass", "name"),
        "register_formatters": (Formatter, False, "a taskdeck.Formatter instance", "name"),
        "register_model_packs": (ModelPack, False, "a taskdeck.ModelPack", "alias"),
    }[hook_name]


def _checked(hook_name: str, register: Any) -> Any:
    """``register`` behind a check of what a plugin hands it: the right kind of thing, named."""
    if hook_name == "register_configs":
        return register

    def check(item: Any = None, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise PluginContractError(f"{hook_name}: register() takes one thing at a time")
        base, is_class, words, key = _expected(hook_name)
        fits = isinstance(item, type) and issubclass(item, base) if is_class else isinstance(item, base)
        if not fits:
            shown = f"class {item.__name__}" if isinstance(item, type) else type(item).__name__
            raise PluginContractError(f"{hook_name}: register() takes {words}, not {shown}")
        name = getattr(item, key, None)
        if not isinstance(name, str) or not name:
            raise PluginContractError(f"{hook_name}: {words} needs a {key} (a non-empty string)")
        params = getattr(item, "Params", None)
        if is_class and not dataclasses.is_dataclass(params):
            raise PluginContractError(f"{hook_name}: {item.__name__}.Params must be a dataclass")
        register(item)

    return check


def _restriction() -> set[str] | None:
    raw = os.environ.get(RESTRICT_ENV)
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


def _third_party_entry_points() -> list:
    """The group's entry points of every distribution but taskdeck, sorted by name. taskdeck's
    own are told by their modules (the built-ins), not by ``e.dist.name``, which parses each
    distribution's METADATA (40 ms at start-up for 42 entry points)."""
    from importlib.metadata import entry_points

    own = set(builtin_plugins())

    def theirs(e: Any) -> bool:
        if e.value in own:
            return False
        # a stale copy of taskdeck's metadata may declare a module since removed
        return not e.value.startswith("taskdeck.") or e.dist is None or e.dist.name != DISTRIBUTION

    return sorted(filter(theirs, entry_points(group=ENTRY_POINT_GROUP)), key=lambda e: e.name)


@lru_cache(maxsize=1)
def builtin_plugins() -> tuple[str, ...]:
    """The built-in plugins' modules, found like third-party plugins: from the entry points the
    taskdeck distribution declares (setup.cfg), so adding one edits no core file."""
    from importlib.metadata import distributions

    # taskdeck's own metadata may be found twice (a stale taskdeck.egg-info in a checkout on
    # sys.path beside the installed one): the first that declares the built-ins is taken
    declared = (d.entry_points.select(group=ENTRY_POINT_GROUP) for d in distributions(name=DISTRIBUTION))
    modules = next((tuple(e.value for e in found) for found in declared if found), ())
    if not modules:
        raise TaskdeckError(
            "taskdeck's built-in plugins are not installed (no entry points of the taskdeck distribution): "
            "pip install -e . in the checkout"
        )
    return modules


def build_session(builtins: tuple[str, ...] | None = None, third_party: bool = True) -> Session:
    """A fresh session: a plugin manager with the built-ins (``builtins``: these modules
    instead) and the third-party entry-point plugins loaded."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    session = Session(pm=pm)
    candidates: list[tuple[str, Any]] = [(m, None) for m in (builtin_plugins() if builtins is None else builtins)]
    if third_party:
        allowed = _restriction()
        candidates += [(ep.name, ep) for ep in _third_party_entry_points() if allowed is None or ep.name in allowed]
    for name, ep in candidates:
        try:
            plugin = importlib.import_module(name) if ep is None else ep.load()
            pm.register(plugin, name=name)
        except Exception as exc:  # a broken plugin must not take the others down
            session.broken.append(BrokenPlugin(name, _reason(exc)))
            continue
        if ep is not None:
            declared = getattr(plugin, DECLARATION, None)
            session.declared_api[name] = None if declared is None else str(declared)
            note = check_declared(name, declared)
            if note:
                session.version_notes[name] = note
        try:
            pm.check_pending()
            _collect(session, plugin, name)
        except Exception as exc:
            pm.unregister(plugin)
            session.broken.append(BrokenPlugin(name, _reason(exc)))
            continue
        session.plugin_names.append(name)
    _bind_capabilities(session)
    return session


def _bind_capabilities(session: Session) -> None:
    """Each backend against the capabilities it offers: the methods of a plugin's protocol are
    checked on every call, as ``Backend``'s are; an undeclared capability or a missing method is
    noted in one line."""
    from ..plugin_api import guard

    for name, cls in session.backends.items():
        owner = session.backends.owner(name)
        for offered in cls.all_capabilities:
            if offered not in session.capabilities:
                session.capability_notes.append(
                    f"plugin '{owner}': backend '{name}' offers capability '{offered}', which no plugin declares: "
                    "install the plugin that declares it, or declare it with register_capabilities"
                )
                continue
            capability = session.capabilities.get(offered)
            protocol = capability.declared_by()
            for method in capability.methods:
                impl = getattr(cls, method, None)
                if impl is None:
                    session.capability_notes.append(
                        f"plugin '{owner}': backend '{name}' offers capability '{offered}' "
                        f"without its method {method}()"
                    )
                elif not getattr(impl, "__taskdeck_guarded__", False) and callable(vars(protocol).get(method)):
                    setattr(cls, method, guard(vars(protocol)[method], impl))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@lru_cache(maxsize=1)
def get_session() -> Session:
    """The process-wide session, built on first use."""
    return build_session()
