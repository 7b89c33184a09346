"""Questions to the minutes archive (``task=ask``), with known answers, scored strictly.

The archive holds four meetings, as a user's would after four ``task=minutes`` runs on the
embedded defaults: the two example meetings from their audio (Whisper tiny.en, the diarizer) and
the two real AMI meetings of ``../shared/benchmarks/meetings/`` from their human transcripts.

An answer counts only when (1) it states the known answer (every group of words, each group
any one of its forms), (2) at least one quote comes from the right meeting and holds the words
that answer it, and (3) every quote is true: its words are, in order, in that meeting's
transcript as the minutes read it. A question no meeting answers counts only as "not found".

The questions were written before the first run, in two sets: ``tune`` (what the thresholds
and the prompt were tuned on) and ``held_out`` (scored once, never tuned on).

    python benchmarks/ask_archive.py                   # build the archive (minutes runs), then ask
    python benchmarks/ask_archive.py --archive A.sqlite --runs RUNS   # ask an archive built before
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEETINGS = ROOT.parent / "shared" / "benchmarks" / "meetings"
SOURCES = {
    "launch": ["audio=examples/meeting/launch_meeting.mp3"],
    "clinic": ["audio=examples/meeting/clinic_meeting.mp3"],
    "TS3003a": [f"transcript={MEETINGS / 'ami_TS3003a.txt'}"],
    "TS3011b": [f"transcript={MEETINGS / 'ami_TS3011b.txt'}"],
}

# (question, meeting or None for "not found", answer groups, quote words: any one of them; the
# example meetings are quoted as Whisper heard them, "15th of April" for "the fifteenth of April")
QUESTIONS = {
    "tune": [
        ("What price did we set for the Trail e-bike?", "launch",
         [["2,400", "2400", "two thousand four hundred"]], ["two thousand four hundred", "2,400", "2400"]),
        ("When is the e-bike launch now?", "launch",
         [["15", "fifteenth"], ["april"]], ["fifteenth of april", "15th of april"]),
        ("Why was the e-bike launch moved?", "launch",
         [["firmware", "battery", "testing", "test"]], ["firmware", "testing", "two more weeks"]),
        ("When does the flu clinic run?", "clinic", [["saturday"]], ["saturday"]),
        ("When does online booking go live?", "clinic",
         [["6", "sixth"], ["october"]], ["sixth of october", "6th of october"]),
        ("How many flu vaccine doses arrived?", "clinic", [["400", "four hundred"]], ["four hundred", "400"]),
        ("What is the selling price of the remote control?", "TS3003a",
         [["25", "twenty five", "twenty-five"]], ["twenty five"]),
        ("What is the maximum production cost of the remote control?", "TS3003a",
         [["12.5", "12,5", "12.50", "twelve and a half"]], ["twelve and a half"]),
        ("Which age group should the remote control target?", "TS3011b", [["40", "forty"]], ["forty"]),
        ("Why will the remote control not support teletext?", "TS3011b",
         [["out of date", "internet", "outdated", "dated"]], ["out of date", "internet"]),
        ("What did we decide about the office parking spaces?", None, [], []),
        ("Who is responsible for hiring a new data scientist?", None, [], []),
    ],
    "held_out": [
        ("Who will send the revised budget, and by when?", "launch", [["james"], ["ninth", "9"]], ["budget"]),
        ("What will Daniel do about the waiting room chairs?", "clinic", [["quote"]], ["three quotes"]),
        ("What profit does the remote control project aim for?", "TS3003a",
         [["50 million", "fifty million"]], ["fifty million"]),
        ("How could the remote control be recharged?", "TS3011b", [["cradle"]], ["cradle"]),
        ("Why do riders think the e-bike battery is dying?", "launch", [["cold", "range"]], ["cold weather"]),
        ("What budget did marketing get for social media ads?", None, [], []),
    ],
}  # fmt: skip


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def in_order(quote: str, source: str) -> bool:
    """Every word of ``quote`` appears in ``source`` in the same order, side by side."""
    q, s = " ".join(words(quote)), " ".join(words(source))
    return bool(q) and q in s


def build(archive: Path, runs: Path) -> dict[str, float]:
    seconds = {}
    for name, inputs in SOURCES.items():
        start = time.perf_counter()
        cmd = [sys.executable, "run.py", "task=minutes", *inputs, f"archive={archive}", f"hydra.run.dir={runs / name}"]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        seconds[name] = round(time.perf_counter() - start, 1)
        print(f"minutes of {name}: {seconds[name]} s", flush=True)
    return seconds


def meeting_texts(archive: Path, runs: Path) -> dict[str, str]:
    import sqlite3

    db = sqlite3.connect(archive)
    texts = {}
    for name in SOURCES:
        run = str((runs / name).resolve())
        found = db.execute("SELECT id FROM meetings WHERE run = ?", (run,)).fetchone()
        if found is None:
            raise SystemExit(f"the archive has no meeting from {run}")
        texts[name] = " ".join(r[0] for r in db.execute("SELECT text FROM turns WHERE meeting = ?", found))
    return texts


def ask(question: str, archive: Path, out: Path) -> dict:
    cmd = [sys.executable, "run.py", "task=ask", f"question={json.dumps(question)}", f"archive={archive}",
           f"hydra.run.dir={out}"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"task=ask failed: {done.stderr.strip()[-500:]}")
    record = json.loads((out / "result.json").read_text())
    record["wall_s"] = time.perf_counter() - start
    return record


def score(item: tuple, result: dict, texts: dict[str, str], runs: Path) -> tuple[bool, str]:
    question, meeting, groups, quote_words = item
    if meeting is None:
        return (not result["found"]), "not found" if not result["found"] else f"answered: {result['answer']}"
    if not result["found"]:
        return False, "not found"
    answer = result["answer"].lower()
    missing = [g for g in groups if not any(form in answer for form in g)]
    run_of = {str((runs / name).resolve()): name for name in SOURCES}
    false = [
        q
        for q in result["quotes"]
        if not in_order(q["text"], texts[run_of.get(q["run"], "")] if q["run"] in run_of else "")
    ]
    right = [
        q for q in result["quotes"]
        if run_of.get(q["run"]) == meeting and any(w in q["text"].lower() for w in quote_words)
    ]  # fmt: skip
    ok = not missing and bool(right) and not false
    why = "right" if ok else "; ".join(
        x for x in (
            f"answer lacks {missing}" if missing else "",
            "no quote from the right meeting that states it" if not right else "",
            f"{len(false)} quote(s) not in the transcript" if false else "",
        ) if x
    )  # fmt: skip
    return ok, why


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="an archive built before (with --runs)")
    parser.add_argument("--runs", type=Path, help="the minutes run directories of that archive (one per meeting)")
    parser.add_argument("--sets", default="tune,held_out")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ask-archive-"))
    archive, runs = args.archive, args.runs
    if archive is None:
        archive, runs = work / "archive.sqlite", work / "runs"
        build(archive, runs)
    assert runs is not None
    texts = meeting_texts(archive, runs)
    os.environ.pop("TASKDECK_ARCHIVE", None)
    for name in args.sets.split(","):
        right, times = 0, []
        answerable = sum(1 for q in QUESTIONS[name] if q[1])
        for i, item in enumerate(QUESTIONS[name]):
            result = ask(item[0], archive, work / "asks" / f"{name}-{i}")
            times.append(result["wall_s"])
            ok, why = score(item, result["result"], texts, runs)
            right += ok
            print(f"[{name}] {'OK ' if ok else 'NO '} {item[0]}\n      → {result['result']['answer']} ({why})")
            for q in result["result"]["quotes"]:
                print(f'        "{q["text"][:110]}" ({q["meeting"]}, {q["speaker"]}, {q["time"]})')
        times.sort()
        unanswerable = len(QUESTIONS[name]) - answerable
        print(
            f"[{name}] {right}/{len(QUESTIONS[name])} right ({answerable} answerable, {unanswerable} not "
            f"answerable); median {times[len(times) // 2]:.1f} s per question\n"
        )


if __name__ == "__main__":
    main()
