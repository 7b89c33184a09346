"""``python -m taskdeck new-plugin NAME``: a plugin package to start from, in the manner of
simonw/llm's plugin template: a task, its entry point, a test and a README that work as written."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ..errors import ConfigError
from ..io import atomic_write_text
from ..plugin_api import PLUGIN_API

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "taskdeck-{dash}"
version = "0.1.0"
description = "A taskdeck plugin: task={name}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["taskdeck"]

[project.optional-dependencies]
test = ["pytest"]

# taskdeck finds the plugin through this entry point
[project.entry-points.taskdeck]
{name} = "taskdeck_{name}"

[tool.setuptools]
packages = ["taskdeck_{name}"]
"""

_MODULE = '''\
"""taskdeck plugin: ``task={name}`` counts the words of a text.

Replace the counting with your own work. To use a model, ask for it by capability in
``run``: ``backend, capability = ctx.model(params.model, needs=[CHAT])`` and then
``backend.chat(messages, max_new_tokens=64)`` (docs/plugins.md lists every capability).
"""

from dataclasses import dataclass

from taskdeck import Report, Section, Task, hookimpl, param, required

#: The plugin API this plugin is written for; taskdeck warns when it stops supporting it.
TASKDECK_PLUGIN_API = "{api}"


class {cls}(Task):
    name = "{name}"
    description = "count the words of a text"

    @dataclass
    class Params:
        text: str = required("the text to count")
        top: int = param(3, "how many words to list", ge=1)

    def run(self, params, ctx):
        counts = {{}}
        for word in params.text.lower().split():
            counts[word] = counts.get(word, 0) + 1
        rows = [{{"word": w, "count": n}} for w, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        return Report(title="{name}", sections=[Section("Words", rows[: params.top])])


@hookimpl
def register_tasks(register):
    register({cls})
'''

_TEST = '''\
"""Tests of the plugin, through its hook and its task."""

from taskdeck_{name} import {cls}, register_tasks


def test_the_plugin_registers_its_task():
    registered = []
    register_tasks(register=registered.append)
    assert registered == [{cls}]


def test_the_task_counts_words():
    task = {cls}()
    report = task.run({cls}.Params(text="the cat and the hat", top=2), ctx=None)
    assert report.sections[0].rows == [{{"word": "the", "count": 2}}, {{"word": "and", "count": 1}}]
'''

_README = """\
# taskdeck-{dash}

A [taskdeck](https://pypi.org/project/taskdeck/) plugin: `task={name}` counts the words of a text.

## Use

    pip install -e .
    python run.py task={name} text="the cat and the hat" top=2   # in a taskdeck checkout
    taskdeck task={name} text="the cat and the hat" top=2        # or the console script

`taskdeck task=plugins` lists it with the plugin API version it declares ({api}).

## Develop

    pip install -e '.[test]'
    pytest

The plugin imports only `taskdeck`'s public names (`docs/plugin-api.md`); heavy libraries are
imported inside `run`, never at import.
"""


def new_plugin(name: str, parent: Path) -> Path:
    """Write ``taskdeck-<name>/`` under ``parent``; refuse a bad name or an existing folder."""
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise ConfigError(
            f"plugin name '{name}' is not usable: give lowercase letters, digits and _ , starting with a letter"
        )
    dash = name.replace("_", "-")
    root = Path(parent) / f"taskdeck-{dash}"
    if root.exists():
        raise ConfigError(f"{root} exists already: choose another name or folder")
    cls = "".join(part.capitalize() for part in name.split("_")) + "Task"
    values = {"name": name, "dash": dash, "cls": cls, "api": PLUGIN_API}
    files = {
        "pyproject.toml": _PYPROJECT,
        f"taskdeck_{name}/__init__.py": _MODULE,
        f"tests/test_{name}.py": _TEST,
        "README.md": _README,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, template.format(**values))
    return root
