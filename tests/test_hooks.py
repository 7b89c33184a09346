"""Every hook, called for real: a plugin implementing all six is loaded into a fresh session
and what each hook registered is used. ``test_every_hook_has_a_test_here`` keeps this file
complete as hooks are added (the list comes from pluggy, not from this file)."""

import sys
import textwrap

import pytest

PLUGIN = textwrap.dedent("""
    from dataclasses import dataclass, field

    from taskdeck import (
        Backend, BackendParams, Capability, Formatter, ModelPack, Piece, Task, Text, hookimpl, param, required,
    )

    class Count:
        def count(self, text: str) -> int:
            raise NotImplementedError

    class Echo(Task):
        name = "echo-hooks"
        description = "the text, echoed"

        @dataclass
        class Params:
            text: str = required("the text")

        def run(self, params, ctx):
            return Text(params.text)

    @dataclass
    class NullParams(BackendParams):
        name: str = "null-hooks"
        level: int = param(1, "how null", ge=0)

    class Null(Backend):
        name = "null-hooks"
        Params = NullParams
        formats = ("null",)
        all_capabilities = ("count-hooks",)

        def count(self, text):
            return len(text)

    @hookimpl
    def register_capabilities(register):
        register(Capability("count-hooks", "characters of a text", ("count",), protocol=Count))

    class Upper(Formatter):
        name = "upper-hooks"
        extension = "up"

        def write(self, result, run_dir, stem, stream):
            path = run_dir / f"{stem}.up"
            path.write_text(result.summary().upper())
            return path

    @hookimpl
    def register_tasks(register):
        register(Echo)

    @hookimpl
    def register_backends(register):
        register(Null)

    @hookimpl
    def register_formatters(register):
        register(Upper())

    @hookimpl
    def register_model_packs(register):
        register(ModelPack(alias="pack-hooks", format="gguf", description="a pack of nothing",
                           files={"x.gguf": [Piece("taskdeck_no_such_package", "x.gguf")]}))

    @hookimpl
    def register_configs(register):
        register(search_path="pkg://taskdeck_hooks_conf")
        register(group="backend", name="null_deep", node=NullParams(level=9))
""")


@pytest.fixture(scope="module")
def hooked(tmp_path_factory):
    """A session of the built-ins plus the plugin above (loaded as a module, like a built-in)."""
    from taskdeck.engine.plugin_manager import build_session, builtin_plugins

    folder = tmp_path_factory.mktemp("hooks-plugin")
    (folder / "taskdeck_hooks_plugin.py").write_text(PLUGIN)
    sys.path.insert(0, str(folder))
    try:
        yield build_session(builtins=(*builtin_plugins(), "taskdeck_hooks_plugin"), third_party=False)
    finally:
        sys.path.remove(str(folder))


def test_hook_register_capabilities(hooked):
    from taskdeck import PluginContractError
    from taskdeck.models import ModelRef

    assert hooked.capabilities.get("count-hooks").methods == ("count",) and not hooked.capability_notes
    assert hooked.capabilities.owner("count-hooks") == "taskdeck_hooks_plugin"
    backend = hooked.backends.get("null-hooks")(ModelRef("n", "path", "null"), None)
    assert backend.count("four") == 4
    with pytest.raises(PluginContractError, match=r"text must be a string, not int$"):
        backend.count(4)


def test_hook_register_tasks(hooked, tmp_path):
    from taskdeck.engine.session_context import SessionContext

    task = hooked.tasks.get("echo-hooks")
    assert hooked.tasks.owner("echo-hooks") == "taskdeck_hooks_plugin"
    result = task().run(task.Params(text="hi"), SessionContext(hooked, None, tmp_path))
    assert result.text == "hi"


def test_hook_register_backends(hooked):
    cls = hooked.backends.get("null-hooks")
    assert cls.Params().level == 1 and "null" in cls.formats


def test_hook_register_formatters(hooked, tmp_path):
    from taskdeck import Text

    path = hooked.formatters.get("upper-hooks").write(Text("quiet"), tmp_path, "echo", None)
    assert path.read_text() == "QUIET"


def test_hook_register_model_packs(hooked):
    pack = hooked.packs.get("pack-hooks")
    assert pack.format == "gguf" and not pack.installed()


def test_hook_register_configs(hooked):
    assert "pkg://taskdeck_hooks_conf" in hooked.config_paths
    assert {"group": "backend", "name": "null_deep"}.items() <= hooked.structured_configs[0].items()
    assert hooked.structured_configs[0]["node"].level == 9


def test_every_hook_has_a_test_here(hooked):
    hooks = sorted(name for name in vars(hooked.pm.hook) if not name.startswith("_"))
    assert hooks, "pluggy lists no hooks"
    missing = [h for h in hooks if f"test_hook_{h}" not in globals()]
    assert not missing, f"hooks without a test here: {missing}"
