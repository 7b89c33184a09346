"""Names for anonymous voices (``S1``, ``S2``, ... from diarization), checked against the transcript.

The chat model proposes a name per voice (the facts pass). Code then reads the cues people
give when they talk: a self-introduction ("I'm Maria Lopez") names the speaker; "Thanks,
Maria" names the speaker of the line before; "Tom, can you ..." names the speaker of the
next line when another voice answers. A proposal is kept when the name is said in the
meeting and no cue contradicts it; where the cues agree on another name, theirs wins; a
voice nobody names keeps its label. A voice already named (a known voice, from the library of
``task=voices``) keeps its name, and no other voice takes it; :func:`check_known_voices`
reports where the transcript says otherwise.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from .evidence import Line, addressed, full_name, same_person
from .schema import NOT_STATED

#: "I'm Maria", "This is Diane" (as on the phone): any case for the lead, a capital for the name.
INTRODUCTION = re.compile(r"\b(?i:I'm|I am|my name is|this is)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
THANKS = re.compile(r"^\W*(?:thanks|thank you)\s*,?\s+([A-Z][a-z]+)\b", re.I)
ANONYMOUS = re.compile(r"^(?:S|SPEAKER_?)\d+$")


def anonymous_labels(lines: Sequence[Line]) -> list[str]:
    """The diarizer's labels in order of first appearance (empty when speakers have names)."""
    seen: list[str] = []
    for line in lines:
        if line.speaker and ANONYMOUS.match(line.speaker) and line.speaker not in seen:
            seen.append(line.speaker)
    return seen


def cues(lines: Sequence[Line], first_names: Sequence[str]) -> tuple[dict[str, Counter], dict[str, set[str]]]:
    """Votes label → name from introductions, thanks and names spoken to (of ``first_names``,
    the attendees), and the names each label cannot be (a voice does not speak to itself)."""
    votes: dict[str, Counter] = defaultdict(Counter)
    never: dict[str, set[str]] = defaultdict(set)
    known = {n.lower() for n in first_names}
    for i, line in enumerate(lines):
        if not line.speaker:
            continue
        for name in INTRODUCTION.findall(line.text):
            if not known or name.split()[0].lower() in known:
                votes[line.speaker][name.split()[0]] += 3
        m = THANKS.match(line.text)
        previous = lines[i - 1].speaker if i > 0 else ""
        if m and m.group(1).lower() in known and previous and previous != line.speaker:
            votes[previous][m.group(1)] += 2
        for name in addressed(line.text, first_names):
            never[line.speaker].add(name)
            if i + 1 < len(lines) and lines[i + 1].speaker and lines[i + 1].speaker != line.speaker:
                votes[lines[i + 1].speaker][name] += 2
    for label, names in never.items():
        for name in names:
            votes[label].pop(name, None)
    return votes, never


def name_speakers(proposed: Sequence[dict], lines: Sequence[Line], known_names: Sequence[str]) -> tuple[dict, list]:
    """label → name, and notes on what the checks changed. ``proposed`` is the model's
    ``[{label, name}]``; ``known_names`` are the attendees' full names (a first name found by a
    cue becomes the full name)."""
    said = " ".join(line.text for line in lines).lower()
    votes, never = cues(lines, [n.split()[0] for n in known_names if n.split()])
    anonymous = set(anonymous_labels(lines))
    taken = {line.speaker for line in lines if line.speaker and line.speaker not in anonymous}  # known voices
    votes = defaultdict(Counter, {label: c for label, c in votes.items() if label in anonymous})
    names: dict[str, str] = {}
    notes: list[str] = []
    for entry in proposed:
        label, name = str(entry.get("label", "")), str(entry.get("name", "")).strip()
        if not name or name.lower() in (NOT_STATED, "unknown") or label in names or label not in anonymous:
            continue
        first = name.split()[0]
        if any(same_person(name, voice) for voice in taken):
            notes.append(f"speaker {label}: not '{name}' (a known voice by that name speaks in the meeting)")
            continue
        if first.lower() not in said:
            notes.append(f"speaker {label}: '{name}' is not named in the transcript")
            continue
        if any(same_person(name, n) for n in never.get(label, ())):
            notes.append(f"speaker {label}: not '{name}' (that voice addresses {first})")
            continue
        best = votes[label].most_common(1)
        if best and not same_person(name, best[0][0]):
            notes.append(f"speaker {label}: '{best[0][0]}' by what was said, not '{name}'")
            continue
        names[label] = name
    for label, counter in votes.items():
        free = [(name, n) for name, n in counter.most_common() if not any(same_person(name, v) for v in taken)]
        if label not in names and free:
            names[label] = free[0][0]
    _one_voice_per_name(names, votes, notes)
    return {label: full_name(name, known_names) for label, name in names.items()}, notes


def _one_voice_per_name(names: dict[str, str], votes: dict[str, Counter], notes: list[str]) -> None:
    """Two voices never get one name: the one the cues name keeps it (else the first named)."""
    holders: dict[str, list[str]] = defaultdict(list)
    for label, name in names.items():
        holders[name.split()[0].lower()].append(label)
    for first, labels in holders.items():
        if len(labels) < 2:
            continue
        keep = max(
            labels, key=lambda lb: (sum(n for v, n in votes[lb].items() if v.lower() == first), -labels.index(lb))
        )
        for label in labels:
            if label != keep:
                notes.append(f"speaker {label}: not '{names[label]}' (that is {keep}'s name)")
                del names[label]


def check_known_voices(lines: Sequence[Line], known: dict[str, str], attendees: Sequence[str]) -> dict[str, list[str]]:
    """The diarizer's label → notes, for each voice named by the known voices (``known``: name
    → label) whose name the transcript contradicts: the voice introduces itself as someone
    else, is thanked or answers as someone else, or speaks to the person it was named as."""
    introduced = [name for line in lines for name in INTRODUCTION.findall(line.text)]  # "I'm Priya Shah"
    names = list(dict.fromkeys([*attendees, *known, *introduced]))
    votes, never = cues(lines, [n.split()[0] for n in names if n.split()])
    out: dict[str, list[str]] = {}
    for name, label in known.items():
        first = name.split()[0]
        if any(same_person(name, n) for n in never.get(name, ())):
            out.setdefault(label, []).append(
                f"known voice {name} ({label}) speaks to {first}: the voice may not be {name}"
            )
        best = votes[name].most_common(1) if name in votes else []
        if best and not same_person(name, best[0][0]):
            out.setdefault(label, []).append(
                f"known voice {name} ({label}) is '{best[0][0]}' by what was said: check who spoke"
            )
    return out
