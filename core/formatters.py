"""The Formatter contract: write a Result to the terminal or to a file in the run directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Optional, TextIO

if TYPE_CHECKING:
    from .results import Result


class Formatter:
    """Writes results of the kinds it lists (``"*"``: any kind).

    A formatter with an ``extension`` writes ``<stem>.<extension>`` into the run directory
    (atomically, see :func:`taskdeck.io.atomic_write_text`); one without writes to the
    terminal stream.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    extension: ClassVar[Optional[str]] = None
    kinds: ClassVar[tuple[str, ...]] = ("*",)

    def accepts(self, result: Result) -> bool:
        return "*" in self.kinds or result.kind in self.kinds

    def write(self, result: Result, run_dir: Path, stem: str, stream: TextIO) -> Optional[Path]:
        """Write ``result``; return the file written, or None for terminal output."""
        raise NotImplementedError
