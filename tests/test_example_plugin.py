"""A third-party plugin installed with pip into a temporary environment, run through run.py.

The temporary venv sees this environment's packages (taskdeck included) through a .pth
file, and gets two plugins of its own: examples/taskdeck-wordfreq and a broken one.
"""

import textwrap

import pytest
from conftest import REPO, cli, plugin_venv


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin-env")
    broken = root / "taskdeck-broken"
    (broken / "taskdeck_broken").mkdir(parents=True)
    (broken / "taskdeck_broken" / "__init__.py").write_text("raise ImportError('needs libfoo 2.0')\n")
    (broken / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "taskdeck-broken"
        version = "0.1.0"
        [project.entry-points.taskdeck]
        broken = "taskdeck_broken"
        [tool.setuptools]
        packages = ["taskdeck_broken"]
    """)
    )
    return plugin_venv(root, [REPO / "examples" / "taskdeck-wordfreq", broken])


def test_plugin_task_runs_without_yaml(plugin_env, tmp_path):
    proc = cli(
        "task=wordfreq", "text=the cat and the hat and the bat", "top=2", tmp_path=tmp_path, python=str(plugin_env)
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith("  ")]
    assert lines == [["the", "3"], ["and", "2"]]  # the two most frequent, counted, and no third
    import json

    rows = json.loads((tmp_path / "run" / "wordfreq.json").read_text())["sections"][0]["rows"]
    assert rows == [{"word": "the", "count": 3}, {"word": "and", "count": 2}]


def test_plugin_yaml_preset_via_register_configs(plugin_env, tmp_path):
    proc = cli("task=wordfreq_top1", "text=b a b", "output=json", tmp_path=tmp_path, python=str(plugin_env))
    assert proc.returncode == 0, proc.stderr
    import json

    result = json.loads((tmp_path / "run" / "wordfreq.json").read_text())
    assert result["sections"][0]["rows"] == [{"word": "b", "count": 2}]


def test_broken_plugin_is_listed_and_others_work(plugin_env, tmp_path):
    proc = cli("task=plugins", "output=text", tmp_path=tmp_path, python=str(plugin_env))
    assert proc.returncode == 0, proc.stderr
    assert "warning: plugin 'broken' failed to load (ImportError: needs libfoo 2.0)" in proc.stderr
    assert "Plugins that failed to load" in proc.stdout and "wordfreq" in proc.stdout
    assert "task=wordfreq_top1" in proc.stdout


def test_plugin_is_not_in_this_environment(tmp_path):
    proc = cli("task=wordfreq", "text=x", tmp_path=tmp_path)
    assert proc.returncode == 2 and "unknown task 'wordfreq'" in proc.stderr
