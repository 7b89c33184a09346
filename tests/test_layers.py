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
    assert "taskdeck.scoring" in _imports(REPO / "core" / "runner.py")
    assert _layer_of("taskdeck.helpers.audio") == "taskdeck.helpers" and _layer_of("taskdeck.batch") == "taskdeck"
