"""Meta-tests: the plugin API is documented as the code declares it; every built-in plugin is
registered and packaged; the minimal plugin of the docs runs. Hooks are called in
test_hooks.py, config groups compose in test_config.py, built-in defaults run in test_defaults.py."""

import configparser
import re
import sys

import pytest
from conftest import REPO
from signatures import contract_methods, rendered

DOCS = REPO / "docs" / "plugins.md"


def _hooks():
    from taskdeck.engine.plugin_manager import build_session

    pm = build_session(builtins=(), third_party=False).pm
    return sorted((name, getattr(pm.hook, name).spec.function) for name in vars(pm.hook) if not name.startswith("_"))


@pytest.mark.parametrize("hook, spec", _hooks(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_hook_is_documented_with_its_signature(hook, spec):
    heading = f"### `{rendered(spec, returns=False)}`"
    assert heading in DOCS.read_text(), f"docs/plugins.md has no section {heading}"
    doc = spec.__doc__ or ""
    assert ":param register:" in doc, f"the hookspec {hook} documents no :param register:"


@pytest.mark.parametrize("method", contract_methods(), ids=lambda m: m.__name__)
def test_every_contract_method_is_documented_with_its_signature(method):
    assert f"`{rendered(method)}`" in DOCS.read_text(), (
        f"docs/plugins.md does not show `{rendered(method)}` (the signature in core/backends.py)"
    )


def _declared():
    from taskdeck.engine.plugin_manager import build_session

    return build_session(third_party=False)


def test_the_builtin_capabilities_are_declared_through_the_hook_with_methods_on_the_contract():
    from taskdeck.backends import CAPABILITIES, MODEL_METHODS

    session = _declared()
    declared = {n: session.capabilities.get(n) for n in session.capabilities.names()}
    on_backend = {n for n, c in declared.items() if c.protocol is None}
    assert on_backend == set(CAPABILITIES)
    assert {session.capabilities.owner(n) for n in CAPABILITIES} == {"taskdeck.plugins.capabilities"}
    for name, capability in declared.items():  # each method declared on its protocol
        assert all(callable(getattr(capability.declared_by(), m, None)) for m in capability.methods), name
    by_protocols = {m for c in declared.values() if c.protocol is not None for m in c.methods}
    assert set(session.model_methods()) == set(MODEL_METHODS) | by_protocols  # every model method serves one


def test_every_builtin_backend_implements_what_it_offers():

    session = _declared()
    for name, cls in session.backends.items():
        for offered in cls.all_capabilities:
            capability = session.capabilities.get(offered)
            main, protocol = capability.methods[0], capability.declared_by()
            assert getattr(cls, main, None) not in (None, getattr(protocol, main)), f"{name}: {offered} lacks {main}()"


def _docs_plugin(tmp_path, monkeypatch, index: int, builtins: tuple = ()):
    """The docs' Python block number ``index`` loaded for real as a plugin (with ``builtins``)."""
    from taskdeck.engine.plugin_manager import build_session

    code = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)[index]
    name = f"taskdeck_docs_block{index}"
    (tmp_path / f"{name}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    session = build_session(builtins=(*builtins, name), third_party=False)
    assert not session.broken
    return code, session


def test_the_docs_python_blocks_are_all_run_here():
    assert len(re.findall(r"```python\n", DOCS.read_text())) == 4


def test_the_minimal_plugin_in_the_docs_runs(tmp_path, monkeypatch):
    """The docs' first Python block is a whole plugin of at most 22 lines: loaded for real, its
    task runs, and its declared range refuses a bad value."""
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.errors import ConfigError
    from taskdeck.params import check_values

    code, session = _docs_plugin(tmp_path, monkeypatch, 0)
    assert len(code.strip().splitlines()) <= 22
    task = session.tasks.get("shout")
    assert task().run(task.Params(text="hello", marks=3), SessionContext(session, None, tmp_path)).text == "HELLO!!!"
    with pytest.raises(ConfigError, match=r"marks=-1 is out of range: give an integer >= 0"):
        check_values(task.Params(text="x", marks=-1))


def test_the_docs_model_task_streams_a_headline_from_the_embedded_chat_model(tmp_path, monkeypatch):
    import io

    from taskdeck.engine.session_context import SessionContext

    _, session = _docs_plugin(
        tmp_path, monkeypatch, 3, ("taskdeck.plugins.packs.chat_models", "taskdeck.plugins.backends.llama_cpp")
    )
    task = session.tasks.get("headline")
    streamed = io.StringIO()
    ctx = SessionContext(session, None, tmp_path, stream=streamed)
    try:
        text = task().run(task.Params(text="The council approved a new bridge on Monday.", model="smollm2-135m"), ctx)
    finally:
        ctx.close()
    assert text.text and streamed.getvalue().strip() == text.text


def test_the_docs_formatter_writes_a_card(tmp_path, monkeypatch):
    from taskdeck import Text

    _, session = _docs_plugin(tmp_path, monkeypatch, 2)
    path = session.formatters.get("card").write(Text("Red Green"), tmp_path, "headline", None)
    assert path.read_text() == "+-----------+\n| Red Green |\n+-----------+\n"


def test_every_builtin_plugin_module_is_registered():
    """A module under plugins/ that implements a hook but is missing from setup.cfg's entry points
    would silently never load."""
    from taskdeck.engine.plugin_manager import builtin_plugins

    found = set()
    for folder, package in (("plugins", "taskdeck.plugins"), ("app", "taskdeck.app")):  # app: the web UI's task
        for path in REPO.joinpath(folder).rglob("*.py"):
            if "@hookimpl" in path.read_text():
                parts = path.relative_to(REPO / folder).with_suffix("").parts
                parts = parts[:-1] if parts[-1] == "__init__" else parts
                found.add(".".join((package, *parts)))
    assert found == set(builtin_plugins())


def test_every_package_folder_is_packaged():
    """Each layer folder and every sub-package is in setup.cfg (a missing one installs without
    its code, and only a regular install would show it)."""
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    packaged = set(cfg["options"]["packages"].split())
    mapping = dict(line.split(" = ") for line in cfg["options"]["package_dir"].strip().splitlines())
    wanted = set()
    for package, folder in mapping.items():
        for init in (REPO / folder).rglob("__init__.py"):
            wanted.add(".".join([package, *init.parent.relative_to(REPO / folder).parts]))
    assert wanted - packaged == set()


def test_the_docs_capability_is_declared_offered_and_checked(tmp_path, monkeypatch):
    from taskdeck import PluginContractError
    from taskdeck.models import ModelRef

    _, session = _docs_plugin(tmp_path, monkeypatch, 1, ("taskdeck.plugins.capabilities",))
    assert session.capabilities.get("rerank").batched and not session.capability_notes
    assert "rerank" in session.model_methods()
    backend = session.backends.get("overlap")(ModelRef("o", "path", "overlap"), None)
    assert backend.rerank("red fox", ["a red car", "blue sky"]) == [0.5, 0.0]
    with pytest.raises(PluginContractError, match=r"documents must be a list of strings, not str$"):
        backend.rerank("red fox", "a red car")
