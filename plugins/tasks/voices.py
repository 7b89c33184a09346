"""``task=voices``: the library of known voices that ``task=minutes`` names speakers from.

- ``action=list`` (the default): each known voice, how much speech it was enrolled from, from where;
- ``action=enrol run=<a minutes run directory>``: save the voices that run's minutes named
  (its ``minutes.voices.json``); ``label=S3 name="Tom Baker"`` saves one voice under a name
  of your own (one the minutes left as ``S3``, or named wrongly);
- ``action=rename name=Tom to="Tom Baker"``, ``action=merge name=Tom to="Tom Baker"`` (one
  person enrolled under two names), ``action=forget name=Tom``.

The library holds voiceprints (numbers from the diarizer's voice encoder), never audio, and
nothing is written to it but by these actions (:mod:`taskdeck.helpers.voices`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from taskdeck import InputError, Report, Section, Task, hookimpl, param
from taskdeck.helpers.voices import MIN_SECONDS, VOICES_FILE, VoiceLibrary, Voiceprint, library_folder

ACTIONS = ("list", "enrol", "rename", "merge", "forget")


class VoicesTask(Task):
    name = "voices"
    description = "known voices for the minutes: list, enrol from a minutes run, rename, merge, forget"

    @dataclass
    class Params:
        action: str = param("list", "list | enrol | rename | merge | forget", choices=ACTIONS)
        voices: Optional[str] = param(None, "the known voices' folder (default: ~/.local/share/taskdeck/voices)")
        run: Optional[str] = param(None, "enrol: a task=minutes run directory (it holds minutes.voices.json)")
        label: Optional[str] = param(None, "enrol: only this voice of the run (S1, S2 ...), under name=")
        name: Optional[str] = param(None, "enrol: the name for label=; rename, merge, forget: the known voice")
        to: Optional[str] = param(None, "rename: the new name; merge: the known voice that takes name='s enrolments")

    def run(self, params, ctx):
        library = VoiceLibrary(library_folder(params.voices))
        done = ""
        if params.action == "enrol":
            done = self._enrol(library, params)
        elif params.action in ("rename", "merge", "forget"):
            done = self._change(library, params)
        note = "; ".join(n for n in (done, _note(library)) if n)
        title = f"known voices in {library.folder}"
        return Report(title=title, sections=[Section("voices", _rows(library), note=note)])

    def _enrol(self, library: VoiceLibrary, params) -> str:
        if not params.run:
            raise InputError("action=enrol needs run=<a task=minutes run directory> (it holds minutes.voices.json)")
        path = Path(params.run).expanduser() / VOICES_FILE
        if not path.is_file():
            raise InputError(
                f"run={params.run} has no {VOICES_FILE}: enrol from a task=minutes run on audio that was diarized"
            )
        heard = json.loads(path.read_text(encoding="utf-8"))
        voices: dict = heard.get("voices", {})
        doubted: list[str] = []  # known voices the run's transcript contradicts
        if params.label:
            if params.label not in voices:
                raise InputError(f"label={params.label}: the run's voices are {', '.join(voices) or 'none'}")
            if not params.name:
                raise InputError(f"label={params.label} needs name=<who it is>")
            chosen = {params.label: params.name}
        else:
            if params.name:
                raise InputError("name= needs label=<S1, S2 ...>: which of the run's voices it names")
            chosen = {label: v["name"] for label, v in voices.items() if v.get("name") and not v.get("doubted")}
            doubted = [f"{label} ({v['name']})" for label, v in voices.items() if v.get("doubted")]
            if not chosen:
                raise InputError(
                    f"the minutes of run={params.run} named no voice: enrol one with label=S1 name=<who it is>"
                )
        saved, short = [], []
        for label, who in chosen.items():
            entry = voices[label]
            if float(entry["seconds"]) < MIN_SECONDS:
                short.append(f"{label} ({entry['seconds']:.1f} s)")
                continue
            print_ = Voiceprint(list(entry["vector"]), float(entry["seconds"]))
            source = Path(str(heard.get("source") or params.run)).name
            library.enrol(who, print_, model=heard["model"], source=source)
            saved.append(f"{who} ({label})")
        if not saved:
            raise InputError(
                f"nothing enrolled: {', '.join(short)} heard alone for less than {MIN_SECONDS:.0f} s, "
                "too little to know a voice by"
            )
        library.save()
        skipped = f"; not {', '.join(short)}: under {MIN_SECONDS:.0f} s alone" if short else ""
        if doubted:
            skipped += f"; not {', '.join(doubted)}: the transcript contradicts the name (label=... name=... to enrol)"
        return f"enrolled {', '.join(saved)}{skipped}"

    def _change(self, library: VoiceLibrary, params) -> str:
        if not params.name:
            raise InputError(f"action={params.action} needs name=<a known voice>")
        if params.action == "forget":
            library.forget(params.name)
            done = f"forgot {params.name}"
        else:
            if not params.to:
                what = "the new name" if params.action == "rename" else "the known voice to merge into"
                raise InputError(f"action={params.action} needs to=<{what}>")
            if params.action == "rename":
                library.rename(params.name, params.to)
                done = f"renamed {params.name} to {params.to}"
            else:
                library.merge(params.name, params.to)
                done = f"merged {params.name} into {params.to}"
        library.save()
        return done


def _rows(library: VoiceLibrary) -> list[dict]:
    return [
        {
            "name": p.name,
            "speech": f"{p.seconds:.0f} s",
            "enrolments": len(p.enrolments),
            "from": ", ".join(dict.fromkeys(Path(str(e.get("source", ""))).name for e in p.enrolments)),
            "model": p.model,
        }
        for p in sorted(library.profiles.values(), key=lambda p: p.name.lower())
    ]


def _note(library: VoiceLibrary) -> str:
    if library.profiles:
        return ""
    return "none yet: after a task=minutes run, task=voices action=enrol run=<its directory> saves the voices it named"


@hookimpl
def register_tasks(register):
    register(VoicesTask)
