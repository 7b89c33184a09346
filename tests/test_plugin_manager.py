"""Plugin discovery through real entry points (a real dist-info on sys.path)."""

import sys
import textwrap

import pytest

from taskdeck.engine.plugin_manager import build_session

GOOD = """
from dataclasses import dataclass
from taskdeck import Task, Text, hookimpl, required

class Echo(Task):
    name = "echo"
    description = "repeat the text"

    @dataclass
    class Params:
        text: str = required("text to echo")

    def run(self, params, ctx):
        return Text(params.text)

@hookimpl
def register_tasks(register):
    register(Echo)

@hookimpl
def register_configs(register):
    from taskdeck.plugins.backends.llama_cpp import LlamaCppParams
    register(group="backend", name="llama_cpp_small", node=LlamaCppParams(n_ctx=1024))
"""
BROKEN = "import a_module_that_does_not_exist\n"
TYPO = """
from taskdeck import hookimpl

@hookimpl
def register_task(register):  # misspelled hook: must fail loudly, not be ignored
    pass
"""
DUPE = """
from taskdeck import hookimpl
from taskdeck.plugins.tasks.classification import SentimentTask

class Other(SentimentTask):
    pass

class Fresh(SentimentTask):
    name = "fresh-name"

@hookimpl
def register_tasks(register):
    register(Fresh)  # a new name, registered first...
    register(Other)  # ...then the built-in 'sentiment' again: the plugin registers nothing
"""


@pytest.fixture
def plugin_dist(tmp_path, monkeypatch):
    """Install four plugins as a real distribution (dist-info + entry points) on sys.path."""
    modules = {"td_good": GOOD, "td_broken": BROKEN, "td_typo": TYPO, "td_dupe": DUPE}
    for name, code in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
    info = tmp_path / "td_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: td-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[taskdeck]\n" + "".join(f"{m} = {m}\n" for m in modules))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in modules:
        sys.modules.pop(name, None)


def test_builtins_register_like_plugins():
    s = build_session(third_party=False)
    assert {"plugins", "sentiment"} <= set(s.tasks.names())
    assert {"llama_cpp", "transformers"} <= set(s.backends.names())
    assert {"text", "json", "markdown"} <= set(s.formatters.names())
    assert "qwen2.5-coder-1.5b" in s.packs
    assert s.tasks.owner("sentiment") == "taskdeck.plugins.tasks.classification"
    assert not s.broken


def test_broken_plugins_are_reported_and_the_rest_load(plugin_dist, monkeypatch):
    monkeypatch.delenv("TASKDECK_PLUGINS", raising=False)
    s = build_session()
    broken = {b.name: b.reason for b in s.broken}
    assert "ModuleNotFoundError" in broken["td_broken"]
    assert "register_task" in broken["td_typo"]  # check_pending caught the typo
    assert "registered twice" in broken["td_dupe"]
    assert "fresh-name" not in s.tasks  # all or nothing
    assert "echo" in s.tasks and s.tasks.owner("echo") == "td_good"
    assert s.tasks.owner("sentiment") == "taskdeck.plugins.tasks.classification"


def test_environment_variable_restricts_third_party_plugins(plugin_dist, monkeypatch):
    monkeypatch.setenv("TASKDECK_PLUGINS", "td_good")
    s = build_session()
    assert "echo" in s.tasks and not s.broken
    monkeypatch.setenv("TASKDECK_PLUGINS", "")
    s = build_session()
    assert "echo" not in s.tasks and not s.broken
    assert "sentiment" in s.tasks  # built-ins always load


@pytest.mark.parametrize(
    "hook,registry",
    [
        ("register_tasks", "tasks"),
        ("register_backends", "backends"),
        ("register_formatters", "formatters"),
        ("register_model_packs", "packs"),
    ],
)
def test_each_registration_hook_fills_its_registry(hook, registry):
    s = build_session(third_party=False)
    impls = getattr(s.pm.hook, hook).get_hookimpls()
    assert impls
    reg = getattr(s, registry)
    assert {reg.owner(n) for n in reg.names()} == {i.plugin_name for i in impls}


def test_register_configs_structured_node_composes(plugin_dist, monkeypatch):
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from taskdeck.engine.config import register_configs

    monkeypatch.setenv("TASKDECK_PLUGINS", "td_good")
    s = build_session()
    register_configs(s)
    GlobalHydra.instance().clear()
    with initialize_config_module("taskdeck.conf", version_base="1.3"):
        cfg = compose("config", overrides=["task=echo", "text=hi", "backend=llama_cpp_small"])
    assert cfg.backend.n_ctx == 1024 and cfg.text == "hi" and cfg.task == "echo"
