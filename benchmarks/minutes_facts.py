"""Strict facts of the example meetings' minutes: owners, due dates, decisions, the next
meeting, and the summary and decision sentences the meeting does not support.

Runs ``python run.py task=minutes audio=<meeting>.mp3`` (or ``--transcript``: the script as
a speaker-labelled transcript) for each example meeting with the overrides given, and scores
``minutes.json`` against ``examples/meeting/<meeting>.facts.json``:

- an action item counts only with its right owner *and* its right due date; owners and
  due dates are also reported apart, and items matching no task of the meeting as extra;
- a decision counts when it matches one of the meeting's decisions; any other entry under
  decisions is a non-decision;
- the next meeting's day (a field of its own, or a next step naming it);
- a summary or decision sentence is unsupported when it matches no claim of the meeting,
  names a number, month or weekday that the claims it matches do not hold ("the launch
  event was booked for the 16th": the 16th is the photo shoot), or states an open task as
  done ("the budget was updated").

Numbers are compared as digits ("the thirteenth" = 13, "two thousand four hundred" = 2400).

Run from the repository root (one benchmark at a time; never beside tests):
  python benchmarks/minutes_facts.py                                  # both meetings, from audio
  python benchmarks/minutes_facts.py --meeting clinic llm.model=qwen2.5-coder-0.5b
  python benchmarks/minutes_facts.py --score run_dir/minutes.json --meeting launch
  python benchmarks/minutes_facts.py --root ../old-checkout           # another checkout's run.py
  python benchmarks/minutes_facts.py --transcript llm.backend=openai backend=openai \
      backend.base_url=http://127.0.0.1:8000/v1                        # through `run.py task=serve port=8000`
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEETINGS = ROOT / "examples" / "meeting"
NAMES = ("launch", "clinic")

UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
MONTHS = "january february march april may june july august september october november december".split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()


# ---- text normalisation ----
def normalise(text: str) -> str:
    """Lower case, number words and ordinals as digits, thousands separators dropped."""
    text = str(text).lower().replace("’", "'")
    text = re.sub(r"(\d),(\d{3})\b", r"\1\2", text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", r"\1", text)
    words = re.findall(r"[a-z]+(?:-[a-z]+)?|\d+(?:[.:]\d+)?|[^\sa-z\d]", text)
    out: list[str] = []
    value: int | None = None
    total = 0

    def flush() -> None:
        nonlocal value, total
        if value is not None or total:
            out.append(str(total + (value or 0)))
        value, total = None, 0

    for w in words:
        parts = w.split("-")
        if all(p in UNITS or p in TENS or p in ORDINALS for p in parts) and w not in ("second",):
            n = sum(UNITS.get(p, 0) + TENS.get(p, 0) + ORDINALS.get(p, 0) for p in parts)
            value = (value or 0) + n
            if parts[-1] in ORDINALS:
                flush()
            continue
        if w in ("hundred", "thousand") and value is not None:
            if w == "hundred":
                value *= 100
            else:
                total, value = total + value * 1000, None
            continue
        if w == "and" and value is not None:
            continue
        flush()
        out.append(w)
    flush()
    return " ".join(out)


def has(text: str, alternatives: list[str]) -> bool:
    norm = f" {normalise(text)} "
    return any(f" {normalise(a)} " in norm or (len(a) > 4 and normalise(a) in norm) for a in alternatives)


def has_all(text: str, groups: list[list[str]]) -> bool:
    return all(has(text, g) for g in groups)


def has_date(text: str, day: int, month: str) -> bool:
    """The day and the month within three words of each other."""
    words = normalise(text).split()
    days = [i for i, w in enumerate(words) if w == str(day)]
    months = [i for i, w in enumerate(words) if w.startswith(month[:3])]
    return any(abs(d - m) <= 3 for d in days for m in months)


def matches(text: str, spec) -> bool:
    if isinstance(spec, dict):
        return has_date(text, spec["day"], spec["month"])
    return has_all(text, spec)


def tokens(text: str) -> tuple[set[int], set[str]]:
    """Numbers, months and weekdays a text names."""
    words = normalise(text).split()
    numbers = {int(w) for w in words if w.isdigit()}
    named = {w for w in words if w in MONTHS or w in WEEKDAYS or w.rstrip("s") in WEEKDAYS}
    return numbers, {w.rstrip("s") if w.rstrip("s") in WEEKDAYS else w for w in named}


DONE = re.compile(
    r"\b(was|were|has been|have been|had been|is now|are now)\s+(already\s+)?\w+(ed|en|t|done|sent|made)\b"
    r"|\b(prepared|updated|booked|finished|completed|signed off|delivered|trained|written|connected)\b"
)
FUTURE = re.compile(r"\b(will|'ll|shall|going to|to be|agreed to|asked to|is to|are to|needs? to|plans? to|by)\b")


# ---- scoring ----
def score(minutes: dict, facts: dict) -> dict:
    items = minutes.get("action_items", [])
    used: set[int] = set()
    rows = []
    for gold in facts["action_items"]:
        candidates = [
            i for i, it in enumerate(items) if i not in used and any(has(it.get("task", ""), [k]) for k in gold["task"])
        ]
        best = None
        for i in candidates:  # prefer the candidate with the right owner
            if gold["owner"].lower() in str(items[i].get("owner", "")).lower():
                best = i
                break
        if best is None and candidates:
            best = candidates[0]
        if best is not None:
            used.add(best)
        item = items[best] if best is not None else {}
        owner_ok = bool(item) and gold["owner"].lower() in str(item.get("owner", "")).lower()
        due_ok = bool(item) and matches(str(item.get("due", "")), gold["due"])
        rows.append((gold, item, owner_ok, due_ok))
    extra = [it for i, it in enumerate(items) if i not in used]
    decisions = [
        str(d.get("text") or d.get("decision") or "") if isinstance(d, dict) else str(d)
        for d in minutes.get("decisions", [])
    ]
    found_decisions = []
    non_decisions = []
    for d in decisions:
        hit = next((g for g in facts["decisions"] if has_all(d, g["all"]) and _date_ok(d, g)), None)
        (found_decisions.append(hit["name"]) if hit else non_decisions.append(d))
    next_text = " ".join([str(minutes.get("next_meeting", ""))] + [str(s) for s in minutes.get("next_steps", [])])
    next_ok = matches(next_text, facts["next_meeting"])
    sentences = _sentences(str(minutes.get("executive_summary", minutes.get("summary", ""))))
    unsupported = [(s, why) for s in sentences + decisions if (why := unsupported_because(s, facts))]
    people = " ".join(str(a.get("name", a)) if isinstance(a, dict) else str(a) for a in minutes.get("attendees", []))
    return {
        "rows": rows,
        "extra": extra,
        "decisions": sorted(set(found_decisions)),
        "non_decisions": non_decisions,
        "next_meeting": next_ok,
        "unsupported": unsupported,
        "sentences": len(sentences) + len(decisions),
        "attendees": [n for n in facts["attendees"] if n.lower() in people.lower()],
        "date": matches(str(minutes.get("date", "")), facts["date"]),
        "location": has_all(str(minutes.get("location", "")), facts["location"]),
    }


def _date_ok(text: str, gold: dict) -> bool:
    return "date" not in gold or has_date(text, gold["date"]["day"], gold["date"]["month"])


def unsupported_because(sentence: str, facts: dict) -> str:
    hits = [c for c in facts["claims"] if sum(has(sentence, k) for k in c["keys"]) >= 1]
    if not hits:
        return "matches nothing the meeting said"
    numbers, named = tokens(sentence)
    allowed_numbers = {n for c in hits for n in c["numbers"]}
    allowed_words = {w for c in hits for w in c["words"]}
    wrong = sorted(str(n) for n in numbers - allowed_numbers) + sorted(named - allowed_words)
    if wrong:
        return f"names {', '.join(wrong)}, which the matching claims do not"
    if any(c.get("task") for c in hits) and DONE.search(sentence.lower()) and not FUTURE.search(sentence.lower()):
        return "states an open task as done"
    return ""


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip()) if s.strip()]


def report(name: str, result: dict, facts: dict) -> dict:
    rows = result["rows"]
    print(f"\n== {name} meeting")
    for gold, item, owner_ok, due_ok in rows:
        mark = "yes" if owner_ok and due_ok else "NO "
        got = f"{item.get('owner', '-')} | {item.get('task', '-')} | {item.get('due', '-')}" if item else "(missing)"
        print(f"  {mark} {gold['owner']:<7} {'/'.join(gold['task']):<24} owner {'ok' if owner_ok else 'WRONG'}, "
              f"due {'ok' if due_ok else 'WRONG'}  <- {got}")  # fmt: skip
    for it in result["extra"]:
        print(f"  extra item: {it.get('owner')} | {it.get('task')} | {it.get('due')}")
    print(f"  decisions found: {len(result['decisions'])}/{len(facts['decisions'])} {result['decisions']}")
    for d in result["non_decisions"]:
        print(f"  not a decision: {d}")
    print(f"  next meeting: {'yes' if result['next_meeting'] else 'NO'}")
    yes = lambda ok: "yes" if ok else "NO"  # noqa: E731
    print(f"  attendees {len(result['attendees'])}/{len(facts['attendees'])}, date {yes(result['date'])}, "
          f"location {yes(result['location'])}")  # fmt: skip
    for s, why in result["unsupported"]:
        print(f"  unsupported: {s!r} ({why})")
    n = len(rows)
    return {
        "items": sum(o and d for _, _, o, d in rows) / n,
        "owners": sum(o for _, _, o, _ in rows) / n,
        "dues": sum(d for _, _, _, d in rows) / n,
        "extra": len(result["extra"]),
        "decisions": len(result["decisions"]) / len(facts["decisions"]),
        "non_decisions": len(result["non_decisions"]),
        "next": result["next_meeting"],
        "unsupported": len(result["unsupported"]),
        "sentences": result["sentences"],
    }


def run(name: str, args) -> tuple[dict, dict]:
    stem = f"{name}_meeting"
    source = f"transcript={MEETINGS / (stem + '.txt')}" if args.transcript else f"audio={MEETINGS / (stem + '.mp3')}"
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "run.py", "task=minutes", source, "quiet=true", "output=json", *args.overrides,
             f"hydra.run.dir={tmp}/run"],
            cwd=args.root, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"run failed: {proc.stderr.strip()}")
        minutes = json.loads((Path(tmp) / "run" / "minutes.json").read_text())
        record = json.loads((Path(tmp) / "run" / "result.json").read_text())
    return minutes, {"wall_s": wall, **record.get("metrics", {})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meeting", choices=(*NAMES, "all"), default="all")
    ap.add_argument("--transcript", action="store_true", help="the script as a transcript instead of the audio")
    ap.add_argument("--score", help="score this minutes.json instead of running (needs --meeting)")
    ap.add_argument("--root", default=str(ROOT), help="the checkout whose run.py runs")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    names = NAMES if args.meeting == "all" else (args.meeting,)
    totals = []
    for name in names:
        facts = json.loads((MEETINGS / f"{name}_meeting.facts.json").read_text())
        if args.score:
            minutes, metrics = json.loads(Path(args.score).read_text()), {}
        else:
            minutes, metrics = run(name, args)
        figures = report(name, score(minutes, facts), facts)
        if metrics.get("audio_s"):
            figures["rtf"] = metrics["wall_s"] / metrics["audio_s"]
        figures["wall_s"] = metrics.get("wall_s", 0.0)
        totals.append((name, figures))
    print("\nmeeting | items right (owner+due) | owners | due dates | extra items | decisions | non-decisions "
          "| next meeting | unsupported sentences | wall s | RTF")  # fmt: skip
    for name, f in totals:
        print(f"{name} | {f['items']:.0%} | {f['owners']:.0%} | {f['dues']:.0%} | {f['extra']} | {f['decisions']:.0%} "
              f"| {f['non_decisions']} | {'yes' if f['next'] else 'no'} | {f['unsupported']}/{f['sentences']} "
              f"| {f['wall_s']:.1f} | {f.get('rtf', 0):.3f}")  # fmt: skip
    print(f"({'transcript' if args.transcript else 'audio'}; overrides: {' '.join(args.overrides) or 'none'})")


if __name__ == "__main__":
    main()
