"""Keep the README true: its test command is CI's, its plugin guide is the real example,
and its task table names every built-in task with its default model."""

import re

from conftest import REPO

README = (REPO / "README.md").read_text()


def _bash_blocks():
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_readme_test_command_is_what_ci_runs():
    """CI runs the README's test command: its install line, lint and types, then pytest."""
    lines = [
        ln for ln in (REPO / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith(("#", "set ", "cd "))
    ]
    install, checks, browser, tests = lines
    assert any(block.strip() == f"{install} && pytest" for block in _bash_blocks())
    assert "apt-get install -y -qq chromium" in browser and "apt-get install chromium" in README
    assert checks == "ruff check . && ruff format --check . && python tools/typecheck.py" and tests == "pytest"


def test_readme_main_command_runs_a_builtin_task_on_defaults():
    main = [b.strip() for b in _bash_blocks() if "run.py" in b and "pip install" in b and "pytest" not in b]
    assert len(main) == 1 and "python run.py task=" in main[0]


def test_plugin_guide_shows_the_example_whole():
    example = REPO / "examples" / "taskdeck-wordfreq"
    for path in [
        example / "taskdeck_wordfreq" / "__init__.py",
        example / "pyproject.toml",
        example / "taskdeck_wordfreq" / "conf" / "task" / "wordfreq_top1.yaml",
    ]:
        assert path.read_text().rstrip() in README, path.name


def test_task_table_lists_builtin_tasks_and_default_models(session):
    for name, cls in session.tasks.items():
        if not session.tasks.owner(name).startswith("taskdeck.plugins."):
            continue
        rows = README.split("\n## Tasks\n", 1)[1].splitlines()  # not the extras table above it
        row = next((ln for ln in rows if re.match(rf"\| `{re.escape(name)}`( \(.*?\))? \|", ln)), None)
        assert row, f"README task table lacks {name}"
        assert all(f"`{alias}`" in row.split("|")[1] for alias in cls.aliases), f"{name}: aliases not in the table"
        default = getattr(cls.Params(), "model", None) if hasattr(cls.Params, "__dataclass_fields__") else None
        if default:
            assert f"`{default}`" in row
