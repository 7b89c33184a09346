"""Atomic file writes: a reader never sees a half-written output (text, JSON, Parquet, a
``datasets`` folder)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from .errors import MissingDependencyError


@contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file to write ``path`` through: written beside it under a temporary name and moved
    into place when the block ends; an exception leaves ``path`` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8", newline=None if "b" in mode else "") as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a full disk fails a write(), which names no file
        raise


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    with atomic_writer(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def atomic_write_arrow(path: Path, table: Any, fmt: str, purpose: str) -> Path:
    """A pyarrow ``table`` as a Parquet file (``fmt="parquet"``) or a ``datasets`` folder
    (``"dataset"``, what ``datasets.load_from_disk`` reads), written beside ``path`` and moved
    into place (a folder by two renames). ``purpose`` names what asked, for a missing library."""
    import importlib
    import shutil

    module, package = ("pyarrow.parquet", "pyarrow") if fmt == "parquet" else ("datasets", "datasets")
    try:
        lib = importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package, purpose, extra="datasets") from None
    path = Path(path)
    if fmt == "parquet":
        with atomic_writer(path, "wb") as f:
            lib.write_table(table, f)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, old = (path.with_name(f".{path.name}.{os.getpid()}.{end}") for end in ("part", "old"))
    try:
        lib.Dataset(table).save_to_disk(str(tmp))
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
