"""Type-check taskdeck as it is installed: ``taskdeck`` is ``core/``, ``taskdeck.helpers`` is
``helpers/`` and so on (setup.cfg's ``package_dir``). mypy cannot follow setuptools' editable
finder, so the installed layout is built as symlinks in a temporary folder and checked there;
paths in the report are mapped back to the repository.

    python tools/typecheck.py          # what .ci/run runs
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dirs() -> dict[str, str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return dict(line.split(" = ") for line in cfg["options"]["package_dir"].strip().splitlines())


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="taskdeck-types-") as tmp:
        back: dict[str, str] = {}
        for package, folder in package_dirs().items():
            target = Path(tmp, *package.split("."))
            for path in (ROOT / folder).rglob("*.py"):
                if "__pycache__" in path.parts:
                    continue
                dest = target / path.relative_to(ROOT / folder)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.symlink_to(path)
                back[str(dest.relative_to(tmp))] = str(path.relative_to(ROOT))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--config-file",
                str(ROOT / "pyproject.toml"),
                "--cache-dir",
                str(Path(tmp, ".mypy_cache")),
                "-p",
                "taskdeck",
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        for line in (proc.stdout + proc.stderr).splitlines():
            path, sep, rest = line.partition(":")
            print(f"{back.get(path, path)}{sep}{rest}")
        return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
