"""The layers import in one direction (docs/architecture.md, "Layers"), checked on the source.

core (``taskdeck``) imports no other layer; helpers import the core; evaluation the core;
comparison the core and evaluation; plugins the core, helpers and evaluation, and never
another plugin's internals; the app may import anything.
"""

import ast
from pathlib import Path

import pytest
from conftest import REPO

#: folder -> (its package, the taskdeck packages it may import besides its own)
LAYERS = {
    "core": ("taskdeck", set()),
    "helpers": ("taskdeck.helpers", {"taskdeck"}),
    "evaluation": ("taskdeck.evaluation", {"taskdeck"}),
    "comparison": ("taskdeck.comparison", {"taskdeck", "taskdeck.evaluation"}),
    "plugins": ("taskdeck.plugins", {"taskdeck", "taskdeck.helpers", "taskdeck.evaluation"}),
    "app": (
        "taskdeck.app",
        {"taskdeck", "taskdeck.helpers", "taskdeck.evaluation", "taskdeck.comparison", "taskdeck.plugins"},
    ),
}
OTHER_LAYERS = {pkg for pkg, _ in LAYERS.values()} - {"taskdeck"}


def _module_name(path: Path) -> str:
    folder = path.relative_to(REPO).parts[0]
    parts = [*LAYERS[folder][0].split("."), *path.relative_to(REPO / folder).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Absolute names of the taskdeck modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append(name)
            found += [f"{name}.{a.name}" for a in node.names]  # from taskdeck import helpers
    return [n for n in found if n == "taskdeck" or n.startswith("taskdeck.")]


def _layer_of(name: str) -> str:
    """The layer package a module name belongs to (``taskdeck`` for the core)."""
    for pkg in sorted(OTHER_LAYERS, key=len, reverse=True):
        if name == pkg or name.startswith(pkg + "."):
            return pkg
    return "taskdeck"


def _sources(folder: str) -> list[Path]:
    return sorted(p for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_each_layer_imports_only_the_layers_below_it(folder):
    own, allowed = LAYERS[folder]
    bad = []
    for path in _sources(folder):
        for name in _imports(path):
            layer = _layer_of(name)
            if layer != own and layer not in allowed:
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "\n".join(bad)


def _plugin_of(name: str):
    """``taskdeck.plugins.tasks.minutes.checks`` -> ``taskdeck.plugins.tasks.minutes`` (the plugin)."""
    parts = name.split(".")
    return ".".join(parts[:4]) if len(parts) >= 4 else None


def test_no_plugin_imports_another_plugins_internals():
    bad = []
    for path in _sources("plugins"):
        mine = _plugin_of(_module_name(path))
        for name in _imports(path):
            theirs = _plugin_of(name) if name.startswith("taskdeck.plugins.") else None
            if theirs and mine and theirs != mine:
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_import_checker_sees_relative_and_absolute_imports(tmp_path):
    """The checks above would pass vacuously if imports were not found: they are."""
    assert "taskdeck.helpers.transcripts" in _imports(REPO / "plugins" / "tasks" / "minutes" / "__init__.py")
    assert "taskdeck.plugins.tasks.minutes.checks" in _imports(REPO / "plugins" / "tasks" / "minutes" / "__init__.py")
    assert "taskdeck.engine.eval_plan" in _imports(REPO / "core" / "engine" / "runner.py")
    assert "taskdeck.stopwatch" in _imports(REPO / "core" / "engine" / "runner.py")
    assert (
        _layer_of("taskdeck.helpers.audio") == "taskdeck.helpers" and _layer_of("taskdeck.engine.batch") == "taskdeck"
    )


# ---- inside the core: the contract (``taskdeck.*``) and the engine (``taskdeck.engine.*``) ----
#: Entry points that are neither: ``python -m taskdeck`` runs an engine tool.
CORE_ENTRY_POINTS = {"taskdeck.__main__"}


def _core_graph() -> dict[str, set[str]]:
    """Core module -> the core modules it imports, at any level (module, function, TYPE_CHECKING).
    The packages' ``__init__`` re-export and are left out."""
    modules = {_module_name(p): p for p in _sources("core")}
    graph = {}
    for name, path in modules.items():
        if path.name == "__init__.py" or name in CORE_ENTRY_POINTS:
            continue
        targets = set()
        for imported in _imports(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and modules[imported].name != "__init__.py" and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _is_engine(name: str) -> bool:
    return name == "taskdeck.engine" or name.startswith("taskdeck.engine.")


def test_the_contract_imports_nothing_from_the_engine():
    """What plugins import (``taskdeck``'s top-level modules) never reaches the engine."""
    bad = []
    for path in _sources("core"):
        name = _module_name(path)
        if _is_engine(name) or name in CORE_ENTRY_POINTS:
            continue
        bad += [f"{path.relative_to(REPO)} imports {n}" for n in _imports(path) if _is_engine(n)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("folder", ["plugins", "helpers", "evaluation"])
def test_plugins_and_the_layers_they_use_never_import_the_engine(folder):
    bad = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in _sources(folder)
        for name in _imports(path)
        if _is_engine(name)
    ]
    assert not bad, "\n".join(bad)


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` as a list of modules, or ``[]``."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_core_has_no_import_cycle():
    """Counting type-only and in-function imports too: each core module can be read after
    the ones it imports."""
    graph = _core_graph()
    assert len(graph) > 20 and any(graph.values())  # the graph was built
    cycle = _cycle(graph)
    assert not cycle, " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []
