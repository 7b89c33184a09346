"""Meta-tests: every hook is exercised by a test and documented; every built-in task's
default runs (see test_defaults.py)."""
from pathlib import Path

import pytest

from taskdeck import hookspecs

REPO = Path(__file__).resolve().parents[1]
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("register_"))


def test_hookspecs_are_found():
    assert HOOKS == ["register_backends", "register_configs", "register_formatters",
                     "register_model_packs", "register_tasks"]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_plugin_in_tests_or_examples(hook):
    # Built-ins implement every hook but register_configs, which the example plugin uses;
    # tests load built-ins and the example plugin for real.
    sources = [*REPO.joinpath("plugins").rglob("*.py"), *REPO.joinpath("examples").rglob("*.py")]
    assert any(f"def {hook}(" in p.read_text() for p in sources), f"no plugin implements {hook}"
    tests = "".join(p.read_text() for p in REPO.joinpath("tests").glob("test_*.py"))
    assert hook in tests, f"no test mentions {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    docs = REPO.joinpath("docs", "plugins.md").read_text()
    assert f"`{hook}(register)`" in docs, f"docs/plugins.md does not document {hook}"


def test_every_hook_has_a_docstring_with_params():
    for hook in HOOKS:
        doc = getattr(hookspecs, hook).__doc__ or ""
        assert ":param register:" in doc, hook


def test_every_builtin_plugin_module_is_registered():
    """A module under plugins/ that implements a hook but is missing from BUILTIN_PLUGINS
    would silently never load."""
    from taskdeck.plugin_manager import BUILTIN_PLUGINS

    found = set()
    for path in REPO.joinpath("plugins").rglob("*.py"):
        if "@hookimpl" in path.read_text():
            parts = path.relative_to(REPO / "plugins").with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            found.add(".".join(("taskdeck", "plugins", *parts)))
    assert found == set(BUILTIN_PLUGINS)


def test_every_plugins_subpackage_is_packaged():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    packaged = set(cfg["options"]["packages"].split())
    folders = {".".join(("taskdeck", "plugins", *p.parent.relative_to(REPO / "plugins").parts))
               for p in REPO.joinpath("plugins").rglob("__init__.py")}
    assert {f.rstrip(".") for f in folders} <= packaged
