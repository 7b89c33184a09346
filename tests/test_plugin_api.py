"""The plugin API as third parties meet it: out-of-tree plugin packages (tests/plugins/, each
importing only ``taskdeck``'s public names) pip-installed into a venv, one of them written for
plugin API 1.0; the one-line errors at the contract's boundary; the plugin template."""

import json
import re
import subprocess
import sys
import warnings

import pytest
from conftest import REPO, cli, plugin_venv

PACKAGES = REPO / "tests" / "plugins"
DEPRECATION = (
    "warning: plugin 'headline' uses Backend.chat(stream=False), deprecated in plugin API 1.1 "
    "and removed in 1.2: write stream=None"
)


@pytest.fixture(scope="module")
def api_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin-api")
    made = subprocess.run(
        [sys.executable, "-m", "taskdeck", "new-plugin", "notes", "--dir", str(root)],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return plugin_venv(root, [*sorted(PACKAGES.iterdir()), root / "taskdeck-notes"]), root / "taskdeck-notes"


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def _error(proc) -> str:
    """The one line a failure prints (and nothing else: no traceback)."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def test_plugins_lists_third_party_plugins_with_their_api_version(api_env, tmp_path):
    python, _ = api_env
    proc = cli("task=plugins", "output=json", tmp_path=tmp_path, python=str(python))
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(next((tmp_path / "run").glob("*.json")).read_text())
    rows = {r["plugin"]: r for s in listing["sections"] if s["title"].startswith("Third-party") for r in s["rows"]}
    assert {n: (r["plugin API"], r["note"]) for n, r in rows.items() if n != "misfit_returns"} == {
        "headline": ("1.0", "supported"),
        "card": ("1.1", "supported"),
        "colours": ("1.1", "supported"),
        "wordlist": ("1.1", "supported"),
        "misfit": ("1.1", "supported"),
        "misfit_register": ("1.1", "supported"),
        "notes": ("1.1", "supported"),
        "lookup": ("1.1", "supported"),
    }
    capabilities = {
        r["capability"]: r for s in listing["sections"] if s["title"].startswith("Capab") for r in s["rows"]
    }
    assert capabilities["lookup"]["plugin"] == "lookup" and capabilities["lookup"]["methods"] == "lookup()"
    assert capabilities["chat"]["plugin"] == "taskdeck.plugins.capabilities"
    older = (
        "plugin 'misfit_returns' was written for plugin API 0.9, older than the oldest this taskdeck "
        "supports (1.0): update it as docs/plugin-api.md's changelog says"
    )
    assert rows["misfit_returns"]["note"] == older
    assert _warnings(proc.stderr) == [
        "warning: plugin 'misfit_register' failed to load (PluginContractError: register_tasks: register() "
        "takes a taskdeck.Task subclass, not function); the others work",
        "warning: plugin 'misfit_returns' failed to load (PluginContractError: register_formatters returned a "
        "list: call register(...) for each thing it adds and return nothing); the others work",
        f"warning: {older}",
    ]


def test_a_plugin_written_for_the_previous_version_runs_with_one_deprecation_line(api_env, tmp_path):
    """The headline task (1.0: ``stream=False``) on a third-party backend and pack, written by a
    third-party formatter."""
    python, _ = api_env
    proc = cli(
        "task=headline",
        "text=A red kite over a green field and a white one",
        "model=colours",
        "output=card",
        tmp_path=tmp_path,
        python=str(python),
    )
    assert proc.returncode == 0, proc.stderr
    assert [w for w in _warnings(proc.stderr) if "deprecated" in w] == [DEPRECATION]
    card = (tmp_path / "run" / "headline.card.txt").read_text()
    assert card == "+-----------------+\n| Red Green White |\n+-----------------+\n"
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["models"][0]["backend"] == "wordlist"


def test_the_old_plugin_runs_on_the_embedded_chat_model(api_env, tmp_path):
    python, _ = api_env
    proc = cli(
        "task=headline",
        "text=The city council approved a new bridge over the river on Monday.",
        "model=smollm2-135m",
        "output=card",
        tmp_path=tmp_path,
        python=str(python),
    )
    assert proc.returncode == 0, proc.stderr
    assert [w for w in _warnings(proc.stderr) if "deprecated" in w] == [DEPRECATION]
    line = (tmp_path / "run" / "headline.card.txt").read_text().splitlines()[1]
    assert len(line.strip("| ")) > 0


@pytest.mark.parametrize(
    "how, message",
    [
        (
            "type",
            "error: plugin 'misfit' called WordlistBackend.chat(max_new_tokens='many'): "
            "max_new_tokens must be an integer, not str",
        ),
        (
            "missing",
            "error: plugin 'misfit' called WordlistBackend.chat() wrongly: missing a required argument: 'messages'; "
            "the contract is chat(messages, *, max_new_tokens=256, temperature=0.0, stream=None, json_schema=None, "
            "**options)",
        ),
        (
            "protocol",
            "error: plugin 'misfit' called WordlistBackend.lookup(words='red'): "
            "words must be a list of strings, not str",
        ),
        (
            "unknown",
            "error: plugin 'misfit' called WordlistBackend.score_labels() wrongly: got an unexpected keyword "
            "argument 'normalise'; the contract is score_labels(messages, labels)",
        ),
    ],
)
def test_a_wrong_call_to_a_backend_fails_in_one_line_naming_plugin_method_and_argument(api_env, tmp_path, how, message):
    python, _ = api_env
    proc = cli("task=misfit_call", f"how={how}", tmp_path=tmp_path, python=str(python))
    assert _error(proc) == message
    assert json.loads((tmp_path / "run" / "result.json").read_text())["error_type"] == "PluginContractError"


def test_a_capability_declared_by_one_plugin_is_offered_by_another_and_used_by_a_task(api_env, tmp_path):
    """``lookup`` is in no taskdeck file: taskdeck-lookup declares it (and task=known), the
    wordlist backend offers it, the colours pack is the model."""
    python, _ = api_env
    proc = cli("task=known", "text=red fish Blue", "output=json", tmp_path=tmp_path, python=str(python))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "run" / "known.json").read_text())["sections"][0]["rows"]
    assert rows == [{"word": "red", "known": True}, {"word": "fish", "known": False}, {"word": "Blue", "known": True}]
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert [(m["backend"], m["capability"]) for m in record["models"]] == [("wordlist", "lookup")]


def test_a_capability_nobody_declares_is_named_in_one_line(api_env, tmp_path):
    python, _ = api_env
    proc = cli("task=plugins", tmp_path=tmp_path, python=str(python), env={"TASKDECK_PLUGINS": "wordlist,colours"})
    assert proc.returncode == 0, proc.stderr
    assert _warnings(proc.stderr) == [
        "warning: plugin 'wordlist': backend 'wordlist' offers capability 'lookup', which no plugin declares: "
        "install the plugin that declares it, or declare it with register_capabilities"
    ]


def test_a_plugin_capability_is_checked_and_locked_like_a_builtin_one(monkeypatch):
    """In process, from the packages' sources: the protocol guards the backend's method, and a
    model cache locks it."""
    from taskdeck import PluginContractError
    from taskdeck.engine.plugin_manager import build_session, builtin_plugins

    for name in ("taskdeck-wordlist", "taskdeck-lookup"):
        monkeypatch.syspath_prepend(str(PACKAGES / name))
    session = build_session((*builtin_plugins(), "taskdeck_wordlist", "taskdeck_lookup"), third_party=False)
    assert not session.broken and not session.capability_notes
    assert "lookup" in session.model_methods()
    backend_cls = session.backends.get("wordlist")
    assert backend_cls.lookup.__taskdeck_guarded__
    with pytest.raises(PluginContractError, match=r"fold_case must be True or False, not str$"):
        backend_cls.lookup(None, ["red"], fold_case="no")


def test_a_task_that_returns_no_result_fails_in_one_line(api_env, tmp_path):
    python, _ = api_env
    proc = cli("task=misfit_result", tmp_path=tmp_path, python=str(python))
    assert _error(proc) == (
        "error: plugin 'misfit': task 'misfit_result' returned str from run(): "
        "return a taskdeck.Result, e.g. taskdeck.Text(...)"
    )


def test_a_formatter_that_returns_no_path_fails_in_one_line(api_env, tmp_path):
    python, _ = api_env
    proc = cli(
        "task=headline", "text=red", "model=colours", "output=misfit_output", tmp_path=tmp_path, python=str(python)
    )
    assert _error(proc) == (
        "error: plugin 'misfit': output format 'misfit_output' returned int from write(): "
        "return the path it wrote, or None for terminal output"
    )


def test_a_plugin_from_the_template_installs_runs_and_passes_its_own_tests(api_env, tmp_path):
    python, folder = api_env
    proc = cli("task=notes", "text=the cat and the hat", "top=1", "output=json", tmp_path=tmp_path, python=str(python))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "run" / "notes.json").read_text())["sections"][0]["rows"]
    assert rows == [{"word": "the", "count": 2}]
    own = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")],
        capture_output=True,
        text=True,
        cwd=folder,
    )
    assert own.returncode == 0 and "2 passed" in own.stdout, own.stdout + own.stderr


def test_the_template_refuses_a_folder_that_exists(tmp_path):
    (tmp_path / "taskdeck-notes").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "taskdeck", "new-plugin", "notes", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "exists already" in proc.stderr


# ---- in process: the policy and the checks themselves ----


def test_declared_versions_are_judged_against_the_supported_range():
    from taskdeck.plugin_api import OLDEST_SUPPORTED, PLUGIN_API, check_declared

    assert PLUGIN_API == "1.1" and OLDEST_SUPPORTED == "1.0"
    assert check_declared("p", None) is None
    assert check_declared("p", "1.0") is None and check_declared("p", "1.1") is None
    assert "newer than this taskdeck's 1.1: upgrade taskdeck" in check_declared("p", "1.2")
    assert "older than the oldest this taskdeck supports (1.0)" in check_declared("p", "0.9")
    assert (
        check_declared("p", "one") == "plugin 'p' declares TASKDECK_PLUGIN_API = 'one': write major.minor, e.g. '1.1'"
    )


def test_stream_flag_is_adapted_with_a_warning_naming_the_plugin(tmp_path):
    """``stream=True`` (1.0) becomes a callback printing the pieces; ``stream=False`` None."""
    from taskdeck import CHAT, Backend, Completion, PluginAPIWarning
    from taskdeck.models import ModelRef
    from taskdeck.plugin_api import calling

    class Recorder(Backend):
        name = "recorder"
        all_capabilities = (CHAT,)

        def chat(self, messages, *, max_new_tokens=256, temperature=0.0, stream=None, json_schema=None, **options):
            self.given = stream
            if stream is not None:
                stream("piece")
            return Completion("done")

    backend = Recorder(ModelRef("r", "path", "file"), None)
    messages = [{"role": "user", "content": "hi"}]
    with (
        calling("old_plugin"),
        pytest.warns(PluginAPIWarning, match=r"^plugin 'old_plugin' uses Backend\.chat\(stream=False\)"),
    ):
        backend.chat(messages, stream=False)
    assert backend.given is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.chat(messages, stream=None)  # the current form warns nothing
        backend.chat(messages, stream=print)
    assert backend.given is print


def test_the_public_names_in_the_docs_are_taskdeck_all():
    import taskdeck

    text = (REPO / "docs" / "plugin-api.md").read_text()
    section = text.split("## Public names", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section))
    assert documented == set(taskdeck.__all__)
    assert all(hasattr(taskdeck, n) for n in taskdeck.__all__)
