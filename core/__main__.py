"""``python -m taskdeck new-plugin NAME [--dir FOLDER]``: write a plugin package to start from."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from .errors import TaskdeckError


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskdeck", description="taskdeck's tools for plugin authors")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new-plugin", help="write taskdeck-NAME/: a task, its entry point, a test, a README")
    new.add_argument("name", help="the plugin's name and its task's (lowercase letters, digits, _)")
    new.add_argument("--dir", default=".", help="the folder to write it in (default: here)")
    args = parser.parse_args(argv)
    from .engine.plugin_template import new_plugin

    try:
        root = new_plugin(args.name, Path(args.dir))
    except TaskdeckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {root}: pip install -e '{root}[test]' && pytest {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
