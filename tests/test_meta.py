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
