"""How many facts of the example meeting the minutes capture, for any models and backends.

Runs ``python run.py task=minutes`` on the example (audio by default, or ``--transcript``)
with the overrides given, and checks the facts the script states: the four attendees, the
date, and the owner of each of the four action items named in it. Prints each fact and the
fraction captured.

Run from the repository root:
  python benchmarks/minutes_facts.py                                   # embedded defaults, from audio
  python benchmarks/minutes_facts.py --transcript t.txt llm.model=qwen2.5-coder-0.5b
  python benchmarks/minutes_facts.py --transcript t.txt llm.backend=openai backend=openai \\
      backend.base_url=http://127.0.0.1:8000/v1 llm.model=<served name>
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "examples" / "meeting" / "launch_meeting.mp3"
ATTENDEES = ("Maria", "Tom", "Sarah", "James")
OWNERS = {"Tom": ("firmware",), "Sarah": ("press", "campaign"), "James": ("budget",), "Maria": ("venue",)}


def facts(minutes: dict) -> dict[str, bool]:
    people = " ".join(a["name"] for a in minutes["attendees"])
    found = {f"attendee {n}": n in people for n in ATTENDEES}
    found["date 3 March"] = (
        bool(re.search(r"\b(3|3rd|third)\b", minutes["date"], re.I)) and "march" in minutes["date"].lower()
    )
    for owner, words in OWNERS.items():
        found[f"owner {owner}"] = any(
            owner in i["owner"] and any(w in i["task"].lower() for w in words) for i in minutes["action_items"]
        )
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transcript", help="a transcript file instead of the example audio")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    source = f"transcript={args.transcript}" if args.transcript else f"audio={AUDIO}"
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "run.py",
                "task=minutes",
                source,
                "quiet=true",
                "output=json",
                *args.overrides,
                f"hydra.run.dir={tmp}/run",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"run failed: {proc.stderr.strip()}")
        minutes = json.loads((Path(tmp) / "run" / "minutes.json").read_text())
    found = facts(minutes)
    for name, ok in found.items():
        print(f"  {'yes' if ok else 'NO '}  {name}")
    print(f"facts captured: {sum(found.values())}/{len(found)} in {wall:.0f} s ({source}, {' '.join(args.overrides)})")


if __name__ == "__main__":
    main()
