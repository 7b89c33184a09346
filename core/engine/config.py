"""The Hydra side of the core: run-wide keys and ConfigStore registration.

Each task's config node is its ``Params`` plus the run-wide keys below, stored in
Hydra's ConfigStore as ``task/<name>`` at the global package. So the task's inputs are
top-level keys (``text=...``), and a misspelled key or a wrong type fails at compose time
with Hydra's own check. Backend Params are stored as ``backend/<name>``.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from ..tasks import Task
    from .plugin_manager import Session

DEFAULT_OUTPUTS = ["text", "json", "markdown"]


@dataclass
class RunConfig:
    """Keys every task has."""

    output: Any = field(default_factory=lambda: list(DEFAULT_OUTPUTS))  # a name or a list of names
    backend: Any = None  # filled by the backend group
    quiet: bool = False  # no progress bars or streamed tokens
    input: Optional[str] = None  # batch: a .csv/.tsv/.jsonl/.json/.txt/.parquet file, datasets folder or Hub id
    split: Optional[str] = None  # batch: the split of a datasets folder or Hub dataset holding several
    subset: Optional[str] = None  # batch: the subset (config) of a Hub dataset
    column: Optional[str] = None  # batch: the file's column holding the main input (default: its name)
    results: Optional[str] = None  # batch: results file (JSONL); an existing one is resumed
    table: str = "csv"  # batch: the ordered table beside the results: csv | parquet | dataset
    eval: Optional[str] = None  # a labelled .csv/.jsonl: run it as the batch and score it (quality metrics)
    gold: Optional[str] = None  # eval: the gold column (default: a usual name for the task, e.g. label)
    shard: Optional[str] = None  # batch: k/n runs the k-th of n contiguous parts (sweep shard=1/4,...,4/4)


def task_node(task_cls: type[Task]) -> type:
    """The dataclass stored for ``task=<name>``: Params + run-wide keys + ``task``."""
    params = task_cls.Params
    if not dataclasses.is_dataclass(params):
        params = make_dataclass(f"{task_cls.__name__}Params", [])
    outputs = list(getattr(task_cls, "outputs", DEFAULT_OUTPUTS))
    return make_dataclass(
        f"{task_cls.__name__}Config",
        [("task", str, field(default=task_cls.name)), ("output", Any, field(default_factory=lambda: list(outputs)))],
        bases=(params, RunConfig),
    )


def register_configs(session: Session) -> None:
    """Store every registered task and backend, and plugin-supplied nodes, in ConfigStore.

    Task and backend nodes are stored lazily: Hydra lists them at once, and makes a node's
    structured config (the costly part of start-up) only when a command composes it."""
    from hydra.core.config_store import ConfigStore

    from ..backends import BackendParams

    cs = ConfigStore.instance()
    for name, task_cls in session.tasks.items():
        for node_name in (name, *session.tasks.aliases(name)):  # an alias's node says the task's own name
            _store_lazily(cs, "task", node_name, lambda cls=task_cls: task_node(cls), package="_global_")
    for name, backend_cls in session.backends.items():
        _store_lazily(cs, "backend", name, lambda cls=backend_cls, n=name: cls.Params(name=n))
    _store_lazily(cs, "backend", "auto", lambda: BackendParams(name="auto"))
    for node in session.structured_configs:
        cs.store(**node)


def _store_lazily(cs: Any, group: str, name: str, make: Any, package: Optional[str] = None) -> None:
    """``cs.store(group=..., name=..., node=make())`` with ``make`` called on first load."""
    cs.repo.setdefault(group, {})[f"{name}.yaml"] = _lazy_node_class()(f"{name}.yaml", group, package, make)


@functools.cache
def _lazy_node_class() -> type:
    """A ConfigStore entry whose node is made when Hydra first loads it; the copies Hydra takes
    on each load share what was made (``cell``). Made once, when the ConfigStore is first filled."""
    from hydra.core.config_store import ConfigNode
    from omegaconf import OmegaConf

    class LazyNode(ConfigNode):
        def __init__(self, name: str, group: str, package: Optional[str], make: Any) -> None:
            # not the dataclass __init__: it would set .node
            self.name, self.group, self.package, self.provider = name, group, package, "taskdeck"
            self.make = make
            self.cell: list[Any] = []

        @property
        def node(self) -> Any:
            if not self.cell:
                self.cell.append(OmegaConf.structured(self.make()))
            return self.cell[0]

        @node.setter
        def node(self, value: Any) -> None:
            self.cell = [value]

    return LazyNode


def with_search_path(session: Session, overrides: list[str]) -> list[str]:
    """Overrides plus ``hydra.searchpath=[...]`` holding the plugins' config folders.

    Hydra reads its search path from this key, so plugin presets are found for taskdeck's
    app only. A ``hydra.searchpath=`` the user gave is kept and extended.
    """
    if not session.config_paths:
        return list(overrides)
    given = [o for o in overrides if o.startswith("hydra.searchpath=")]
    rest = [o for o in overrides if not o.startswith("hydra.searchpath=")]
    paths = []
    for o in given:
        inner = o.split("=", 1)[1].strip().strip("[]")
        paths += [p.strip() for p in inner.split(",") if p.strip()]
    paths += [p for p in session.config_paths if p not in paths]
    return [*rest, f"hydra.searchpath=[{','.join(paths)}]"]


def config_dirs(session: Session) -> list[Path]:
    """The folders on taskdeck's config search path: the core's and the plugins'."""
    import importlib.util

    dirs = []
    for path in ["pkg://taskdeck.conf", *session.config_paths]:
        if path.startswith("pkg://"):
            spec = importlib.util.find_spec(path[len("pkg://") :])
            if spec and spec.submodule_search_locations:
                dirs.append(Path(list(spec.submodule_search_locations)[0]))
        else:
            dirs.append(Path(path.removeprefix("file://")))
    return dirs


def preset_names(session: Session, group: str) -> list[str]:
    """Names of the YAML presets of a config group (``task/<name>.yaml``) on the search path."""
    return sorted({p.stem for d in config_dirs(session) for p in (d / group).glob("*.yaml")})


def task_params(task_cls: type[Task], cfg: Any) -> Any:
    """Build the task's Params instance from the composed config (missing values stay ``???``;
    a nested dataclass field, e.g. minutes' ``llm``, is its dataclass again)."""
    from omegaconf import OmegaConf

    params: Any = task_cls.Params
    if not dataclasses.is_dataclass(params):
        return params()
    hints = typing.get_type_hints(params)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        if OmegaConf.is_missing(cfg, f.name):
            values[f.name] = "???"
            continue
        v = cfg[f.name]
        v = OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        nested: Any = hints.get(f.name)
        if isinstance(v, dict) and isinstance(nested, type) and dataclasses.is_dataclass(nested):
            v = typing.cast(Any, nested)(**v)
        values[f.name] = v
    return task_cls.Params(**values)


def backend_params(session: Session, cfg: Any) -> Any:
    """The backend node as its Params dataclass instance."""
    from omegaconf import OmegaConf

    from ..backends import BackendParams

    node = cfg.get("backend")
    if node is None:
        return BackendParams()
    obj: Any = OmegaConf.to_object(node)
    return obj if dataclasses.is_dataclass(obj) else BackendParams(**obj)
