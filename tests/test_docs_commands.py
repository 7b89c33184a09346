"""Every ``python run.py`` line in the README and in docs/ composes as written: Hydra's own
checks, then taskdeck's (the task's parameters and their ranges, the backend's options, the
output formats), so a command copied from the docs never fails on a key or a value."""

import itertools
import re
import shlex

import pytest
from conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _commands() -> list[tuple[str, str]]:
    """(document, arguments) of each ``python run.py`` line inside a code block."""
    found = []
    for doc in DOCS:
        for block in re.findall(r"```[a-z]*\n(.*?)```", doc.read_text(), flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if "python run.py" not in line:
                    continue
                args = line.split("python run.py", 1)[1]
                args = re.split(r"\s+#\s|\s+&&\s|\s*;\s", args)[0]  # a comment, or the next command
                found.append((doc.name, args.strip()))
    return found


COMMANDS = _commands()


def _variants(args: list[str], multirun: bool) -> list[list[str]]:
    """The overrides of one job per combination of a multirun's sweep values (a single run's
    ``key=a,b`` is an error, as it is on the command line)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if not multirun:
        return [args]
    parser = OverridesParser.create()
    choices = []
    for arg in args:
        override = parser.parse_override(arg)
        if override.is_sweep_override():
            key = override.get_key_element()
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            choices.append([arg])
    return [list(combo) for combo in itertools.product(*choices)]


def test_the_docs_have_commands():
    assert len(COMMANDS) >= 30


@pytest.mark.parametrize("doc,args", COMMANDS, ids=[f"{d}: {a}"[:90] for d, a in COMMANDS])
def test_every_documented_command_composes(session, compose, doc, args):
    from taskdeck.engine.config import backend_params, task_params
    from taskdeck.engine.runner import output_names
    from taskdeck.params import check_values

    words = shlex.split(args)
    multirun = "-m" in words or "--multirun" in words
    words = [w for w in words if w not in ("-m", "--multirun")]
    task = next((w.split("=", 1)[1] for w in words if w.startswith("task=")), "plugins")
    if task not in session.tasks and not any(w.startswith("preset=") for w in words):
        pytest.skip(f"task={task} comes from an example plugin (tests/test_example_plugin.py runs it)")
    overrides = [w for w in words if not w.lstrip("+").startswith(("hydra/", "hydra."))]  # launchers: their own tests
    for variant in _variants(overrides, multirun):
        cfg = compose(variant)
        task_cls = session.tasks.get(str(cfg.task))
        check_values(task_params(task_cls, cfg))
        check_values(backend_params(session, cfg), prefix="backend.")
        for name in output_names(cfg.output):
            session.formatters.get(name)


def _first_run() -> list[list[str]]:
    """The commands of the README's "First run" section that need no network."""
    text = (REPO / "README.md").read_text()
    section = text.split("## First run", 1)[1].split("\n## ", 1)[0]
    found = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if "python run.py" in line and "the Hub" not in line:
                found.append(shlex.split(re.split(r"\s+#\s", line.split("python run.py", 1)[1])[0]))
    return found


def test_the_first_run_commands_run_on_the_embedded_defaults(tmp_path):
    """What a newcomer types first runs offline, exits 0 and prints a result; the README's
    sample output is what the first command prints."""
    from conftest import cli

    commands = _first_run()
    assert len(commands) >= 3 and commands[0] == ["task=sentiment", "text=I love this"]
    for i, args in enumerate(commands):
        proc = cli(*args, tmp_path=tmp_path / str(i))
        assert proc.returncode == 0 and proc.stdout.strip(), (args, proc.stderr)
        if i == 0:
            assert proc.stdout.startswith("positive ("), proc.stdout
            assert {p.name for p in (tmp_path / "0" / "run").iterdir()} >= {"result.json", "sentiment.json",
                                                                            "sentiment.md", ".hydra"}  # fmt: skip
