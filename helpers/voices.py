"""Known voices: a library of named voiceprints on disk, and recognising them in a new recording.

A *voiceprint* is a speaker's voice as a unit vector (the embedded diarizer's CAM++ embedding
of that speaker's solo speech, ``voiceprint`` capability). The library is one JSON file,
``voices.json``, in a folder (``voices=``; by default ``$TASKDECK_DATA/voices``, else
``$XDG_DATA_HOME/taskdeck/voices``, else ``~/.local/share/taskdeck/voices``). It holds for each
name the voiceprints it was enrolled from (the recording, the seconds heard, the date), never
audio. Nothing is written to it unless a user enrols, renames, merges or forgets.

Recognition compares each speaker of a new recording with each name's profile (the mean of its
enrolments) by cosine similarity; one name per speaker and one speaker per name (the Hungarian
method), kept where the similarity reaches the threshold and no other name comes within
:data:`MARGIN` of it. Everybody else keeps the diarizer's ``S1``, ``S2`` ...
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Optional

from taskdeck import ConfigError, InputError, Turn
from taskdeck.io import atomic_write_json

#: The capability of a diarizer that also gives each speaker's voiceprint.
VOICEPRINT = "voiceprint"
LIBRARY_FILE = "voices.json"
#: A diarized minutes run's voiceprints, beside its minutes (what ``task=voices action=enrol`` reads).
VOICES_FILE = "minutes.voices.json"
FORMAT = 1
#: Cosine similarity a speaker needs to a known voice to take its name (benchmarks/known_voices.py).
THRESHOLD = 0.6
#: How much closer the best name must be than the next one.
MARGIN = 0.05
#: Seconds of solo speech a speaker needs to be recognised or enrolled.
MIN_SECONDS = 3.0


class Voiceprint(NamedTuple):
    """A speaker's voice: a unit vector and the seconds of speech it was made from."""

    vector: list[float]
    seconds: float


class Voiceprints:
    """The ``voiceprint`` capability's protocol: what a diarizer offering it implements."""

    def voiceprints(self, audio: Any, turns: Sequence[Turn]) -> dict[str, Voiceprint]:
        """Each speaker of ``turns`` → the voiceprint of their speech in ``audio`` (a path or a
        Waveform); a speaker never heard alone may be left out."""
        raise NotImplementedError


@dataclass
class Profile:
    """A known voice: its name, the embedding model, and each enrolment (vector, seconds,
    source, added)."""

    name: str
    model: str
    enrolments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(float(e["seconds"]) for e in self.enrolments)

    def vector(self) -> Any:
        import numpy as np

        rows = np.asarray([e["vector"] for e in self.enrolments], dtype=np.float64)
        mean = np.average(rows, axis=0, weights=[max(float(e["seconds"]), 1e-3) for e in self.enrolments])
        return mean / max(float(np.linalg.norm(mean)), 1e-9)


class Match(NamedTuple):
    """A speaker recognised as a known voice."""

    name: str
    similarity: float


def data_dir() -> Path:
    """taskdeck's folder for what a user keeps (known voices)."""
    env = os.environ.get("TASKDECK_DATA")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "taskdeck"


def library_folder(voices: Optional[str]) -> Path:
    """The library's folder: ``voices`` when given, else the default under :func:`data_dir`."""
    return Path(voices).expanduser() if voices else data_dir() / "voices"


class VoiceLibrary:
    """The named voiceprints in ``folder`` (``voices.json``), read at once and written whole."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LIBRARY_FILE
        self.profiles: dict[str, Profile] = self._read()

    def _read(self) -> dict[str, Profile]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            rows = data["voices"] if data.get("format") == FORMAT else None
            if rows is None:
                raise ValueError(f"format {data.get('format')!r}, not {FORMAT}")
            return {r["name"]: Profile(r["name"], r["model"], list(r["enrolments"])) for r in rows}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"voices={self.folder}: {LIBRARY_FILE} is not a voice library ({exc})") from None

    def save(self) -> Path:
        rows = [{"name": p.name, "model": p.model, "enrolments": p.enrolments} for p in self.profiles.values()]
        return atomic_write_json(self.path, {"format": FORMAT, "voices": rows})

    def find(self, name: str) -> Optional[Profile]:
        """The profile of ``name`` (case aside), or None."""
        return self.profiles.get(name) or next(
            (p for p in self.profiles.values() if p.name.lower() == name.lower()), None
        )

    def get(self, name: str) -> Profile:
        found = self.find(name)
        if found is None:
            known = ", ".join(sorted(self.profiles)) or "none yet"
            raise InputError(f"no known voice named '{name}' in {self.folder} (known: {known})")
        return found

    def enrol(self, name: str, print_: Voiceprint, *, model: str, source: str) -> Profile:
        """Add a voiceprint to ``name``'s profile (made when new)."""
        name = name.strip()
        if not name:
            raise InputError("a known voice needs a name")
        profile = self.find(name)
        if profile is None:
            profile = self.profiles[name] = Profile(name, model)
        elif profile.model != model:
            raise InputError(
                f"'{profile.name}' was enrolled with {profile.model}, not {model}: forget it first or use that diarizer"
            )
        profile.enrolments.append(
            {
                "vector": [round(float(x), 6) for x in print_.vector],
                "seconds": round(float(print_.seconds), 2),
                "source": source,
                "added": time.strftime("%Y-%m-%d"),
            }
        )
        return profile

    def rename(self, name: str, new: str) -> None:
        profile = self.get(name)
        new = new.strip()
        if not new:
            raise InputError("rename needs the new name: to=...")
        if new in self.profiles and self.profiles[new] is not profile:
            raise InputError(f"'{new}' is already a known voice: merge name={profile.name} to={new}")
        del self.profiles[profile.name]
        profile.name = new
        self.profiles[new] = profile

    def merge(self, name: str, into: str) -> None:
        """``name``'s enrolments join ``into``'s profile (the same person under two names)."""
        source, target = self.get(name), self.get(into)
        if source is target:
            raise InputError(f"'{name}' and '{into}' are the same known voice")
        if source.model != target.model:
            raise InputError(
                f"'{source.name}' ({source.model}) and '{target.name}' ({target.model}) "
                "were enrolled with different models"
            )
        target.enrolments.extend(source.enrolments)
        del self.profiles[source.name]

    def forget(self, name: str) -> None:
        del self.profiles[self.get(name).name]


def recognise(
    prints: Mapping[str, Voiceprint],
    profiles: Sequence[Profile],
    *,
    model: str,
    threshold: float = THRESHOLD,
    margin: float = MARGIN,
    min_seconds: float = MIN_SECONDS,
) -> dict[str, Match]:
    """Speaker label → the known voice it is, for the speakers whose voice is close enough to
    one profile (of ``model``) and clearly closer to it than to any other."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    known = [p for p in profiles if p.model == model and p.enrolments]
    labels = [label for label, vp in prints.items() if vp.seconds >= min_seconds]
    if not known or not labels:
        return {}
    voices = np.asarray([prints[label].vector for label in labels], dtype=np.float64)
    voices /= np.maximum(np.linalg.norm(voices, axis=1, keepdims=True), 1e-9)
    sims = voices @ np.stack([p.vector() for p in known]).T  # (speakers, profiles)
    out: dict[str, Match] = {}
    for row, col in zip(*linear_sum_assignment(-sims)):
        best = sims[row, col]
        others = max([s for j, s in enumerate(sims[row]) if j != col], default=-1.0)
        if best >= threshold and best - others >= margin:
            out[labels[row]] = Match(known[col].name, round(float(best), 3))
    return out


def voiceprints_of(diarizer: Any, audio: Any, turns: Sequence[Turn]) -> dict[str, Voiceprint]:
    """The voiceprints of the speakers of ``turns``, when ``diarizer`` offers ``voiceprint``
    (else none: known voices need such a diarizer)."""
    if VOICEPRINT not in diarizer.capabilities():
        return {}
    return dict(diarizer.voiceprints(audio, list(turns)))


def write_run_voices(
    run_dir: Path,
    prints: Mapping[str, Voiceprint],
    names: Mapping[str, str],
    *,
    model: str,
    source: str,
    doubted: Collection[str] = (),
) -> Path:
    """``minutes.voices.json``: each speaker's voiceprint and the name the minutes gave it (none
    for a voice they left anonymous), for ``task=voices action=enrol run=...``; ``doubted``
    labels are known voices the transcript contradicts (not enrolled again unless asked)."""
    voices = {
        label: {
            "name": names.get(label) or None,
            "seconds": round(vp.seconds, 2),
            "vector": [round(float(x), 6) for x in vp.vector],
            **({"doubted": True} if label in doubted else {}),
        }
        for label, vp in prints.items()
    }
    return atomic_write_json(Path(run_dir) / VOICES_FILE, {"model": model, "source": source, "voices": voices})
