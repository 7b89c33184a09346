"""Known voices on real recordings: enrol the speakers of one recording, recognise them in another.

Recordings (no one here made them): pyannote-audio's 30 s excerpts of AMI meetings from its sdist
on PyPI (:mod:`taskdeck.evaluation.recordings`). Several excerpts share participants (AMI's
speaker ids in the references: ``trn00``, ``trn01``, ``trn03`` share three people, ``trn07`` and
``trn08`` four, ``trn06`` and ``trn09`` one; ``dev00``/``dev01`` two; ``tst00``/``tst01`` four).
``trn*`` is where the threshold was chosen; ``dev*`` and ``tst*`` are held out. With
``--examples``, the two example meetings too: they were rendered with shared synthetic voices
(``examples/meeting/render.py``), the clinic's Elena in a voice the launch meeting lacks.

For each recording, the embedded diarizer (``diarizer-campplus``) finds the speakers and their
voiceprints (``voiceprint`` capability); each found speaker is the reference person it overlaps
most. With ``--oracle``, the voiceprints come from the reference turns instead: recognition
alone, as with a diarizer that makes no mistakes. A user enrols a found speaker under that
person's name (as after a run whose minutes named them right), when it was heard alone for at
least ``MIN_SECONDS``. Then, for every
ordered pair of recordings of one set that share a person: enrol from the first, recognise in
the second. ``--library`` enrols from every other recording of the set at once (more known
voices, more chances of a wrong name).

Scores, over the found speakers of the second recordings:
- precision: named speakers given the right name / named speakers;
- recall: right names / speakers whose person is known and was heard alone for ``MIN_SECONDS``;
- unknown named: speakers whose person is not known that got a name anyway (should be 0).

It also prints the similarities of same-person and different-person pairs (speaker vs known
voice), which is how the threshold was chosen. Run alone on the machine:

  python benchmarks/known_voices.py [--threshold 0.6] [--examples] [--library] [--oracle]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
#: The example meetings' speakers and the synthetic voice each was rendered in (render.py's CASTS).
EXAMPLE_VOICES = {
    "launch_meeting": {"Maria": "v1", "Tom": "v2", "Sarah": "v3", "James": "v4"},
    "clinic_meeting": {"Priya": "v1", "Daniel": "v2", "Grace": "v3", "Omar": "v4", "Elena": "v6"},
}


def diarizer():
    from taskdeck import DIARIZE, BackendParams
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.engine.session_context import SessionContext

    ctx = SessionContext(get_session(), BackendParams(), quiet=True)
    backend, _ = ctx.model("diarizer-campplus", needs=[DIARIZE])
    return backend


def person_of(turns, reference) -> dict[str, tuple[str, float]]:
    """Found speaker → the reference person it overlaps most, and the share of its time that is."""
    overlap: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for t in turns:
        for start, end, who in reference:
            shared = min(t.end, end) - max(t.start, start)
            if shared > 0:
                overlap[t.speaker][who] += shared
    out = {}
    for label, people in overlap.items():
        who = max(people, key=lambda p: people[p])
        out[label] = (who, people[who] / sum(people.values()))
    return out


def analyse(backend, name: str, audio: Path, reference, oracle: bool = False) -> dict:
    from taskdeck import Turn
    from taskdeck.helpers.audio import load_audio

    waveform = load_audio(str(audio))
    turns = [Turn(a, b, who) for a, b, who in reference] if oracle else backend.diarize(waveform)
    prints = backend.voiceprints(waveform, turns)
    return {"name": name, "prints": prints, "people": person_of(turns, reference)}


def recordings(examples: bool) -> list[tuple[str, Path, list]]:
    from taskdeck.evaluation.diarization import read_rttm
    from taskdeck.evaluation.recordings import pyannote_recordings

    out = [(r.name, r.audio, r.reference) for r in pyannote_recordings() if r.name != "sample"]
    if examples:
        for stem, cast in EXAMPLE_VOICES.items():
            folder = ROOT / "examples" / "meeting"
            turns = [(a, b, cast[who]) for a, b, who in read_rttm(folder / f"{stem}.rttm")]
            out.append((f"ex_{stem}", folder / f"{stem}.mp3", turns))
    return out


def enrolled(sources: list[dict], model: str):
    from taskdeck.helpers.voices import MIN_SECONDS, Profile

    profiles: dict[str, Profile] = {}
    for rec in sources:
        for label, vp in rec["prints"].items():
            who = rec["people"].get(label, ("", 0))[0]
            if who and vp.seconds >= MIN_SECONDS:
                profiles.setdefault(who, Profile(who, model)).enrolments.append(
                    {"vector": vp.vector, "seconds": vp.seconds, "source": rec["name"]}
                )
    return list(profiles.values())


def score(target: dict, profiles, threshold: float, model: str) -> dict:
    from taskdeck.helpers.voices import MIN_SECONDS, recognise

    known = {p.name for p in profiles}
    found = recognise(target["prints"], profiles, model=model, threshold=threshold)
    named = right = expected = unknown_named = 0
    for label, vp in target["prints"].items():
        who = target["people"].get(label, ("", 0))[0]
        match = found.get(label)
        if who in known and vp.seconds >= MIN_SECONDS:
            expected += 1
        if match:
            named += 1
            right += match.name == who
            unknown_named += who not in known
    return {"named": named, "right": right, "expected": expected, "unknown_named": unknown_named}


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=None, help="similarity to take a name (default: taskdeck's)")
    parser.add_argument("--examples", action="store_true", help="also the two example meetings")
    parser.add_argument("--library", action="store_true", help="enrol from every other recording of the set at once")
    parser.add_argument("--oracle", action="store_true", help="the reference turns instead of the diarizer's")
    args = parser.parse_args()

    from taskdeck.helpers.voices import MIN_SECONDS, THRESHOLD

    threshold = THRESHOLD if args.threshold is None else args.threshold
    model = "diarizer-campplus"
    backend = diarizer()
    recs = [analyse(backend, *r, oracle=args.oracle) for r in recordings(args.examples)]
    for rec in recs:
        rec["set"] = "ex" if rec["name"].startswith("ex_") else rec["name"][:3]

    same: dict[str, list[float]] = defaultdict(list)
    other: dict[str, list[float]] = defaultdict(list)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    turns = "reference turns (recognition alone)" if args.oracle else "the diarizer's turns"
    print(f"threshold {threshold}; {'library of the set' if args.library else 'pairs'}; {turns}")
    print(f"{'enrol from':<22} {'recognise in':<16} named right expected unknown-named")
    for target in recs:
        sources = [r for r in recs if r is not target and r["set"] == target["set"]]
        people = {w for w, _ in target["people"].values()}
        pairs = [sources] if args.library else [[s] for s in sources]
        for group in pairs:
            if not any(people & {w for w, _ in s["people"].values()} for s in group):
                continue
            profiles = enrolled(group, model)
            if not profiles:
                continue
            for label, vp in target["prints"].items():
                who = target["people"].get(label, ("", 0))[0]
                for p in profiles if vp.seconds >= MIN_SECONDS else ():
                    sim = float(np.dot(vp.vector, p.vector()))
                    (same if p.name == who else other)[target["set"]].append(sim)
            s = score(target, profiles, threshold, model)
            for key, value in s.items():
                totals[target["set"]][key] += value
            source = "library" if args.library else group[0]["name"]
            counts = f"{s['named']:>5} {s['right']:>5} {s['expected']:>8} {s['unknown_named']:>8}"
            print(f"{source:<22} {target['name']:<16} {counts}")

    print(
        f"\n{'set':<5} {'precision':<16} {'recall':<16} {'unknown named':<15} same-person sim (median, min)"
        "   other (median, max)"
    )
    for key, t in totals.items():
        precision = f"{t['right']}/{t['named']}" + (f" = {t['right'] / t['named']:.0%}" if t["named"] else "")
        recall = f"{t['right']}/{t['expected']}" + (f" = {t['right'] / t['expected']:.0%}" if t["expected"] else "")
        sims = same[key] or [float("nan")]
        others = other[key] or [float("nan")]
        print(
            f"{key:<5} {precision:<16} {recall:<16} {t['unknown_named']:<15} "
            f"{median(sims):.2f}, {min(sims):.2f}{'':<20} {median(others):.2f}, {max(others):.2f}"
        )


if __name__ == "__main__":
    main()
