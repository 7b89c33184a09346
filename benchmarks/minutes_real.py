"""Minutes of real meetings, scored against what human annotators wrote down.

Runs ``python run.py task=minutes transcript=<meeting>.txt`` as a user would, for each real
meeting in ``../shared/benchmarks/meetings/`` (AMI Meeting Corpus transcripts, with AMI's
manual decisions and action items; the files stay outside this repository), and scores
``minutes.json`` against the references by meaning, with the embedded MiniLM
(``all-minilm-l6-v2``) rather than by words:

- **decisions recalled**: reference decisions matched one-to-one (the Hungarian method on
  cosine similarity) to the minutes' decisions with a similarity of at least ``--threshold``
  and the reference's numbers said ("selling price" does not match "the selling price will be
  25 Euro");
- **action items with the right owner**: reference action items matched the same way to the
  minutes' action items, counted only when the owner is the reference's (AMI names owners by
  role: "the industrial designer", "the UI"; "the team members" is ``all``);
- **unmatched**: the minutes' decisions and action items that match no reference decision or
  action item at the threshold, as a share of all written; each is printed so a reader can
  judge whether it is a real commitment the annotators left out or an utterance from the room;
- **seconds per 1,000 words**: the whole process's wall time (model load included) over the
  transcript's words (markers such as ``{vocalsound}`` not counted).

``--show`` prints every pair with its similarity, to check the threshold by reading.

Run from the repository root, alone on the machine (one run at a time, never beside tests):

  python benchmarks/minutes_real.py                                   # every shared meeting
  python benchmarks/minutes_real.py --meeting ami_TS3003a --show
  python benchmarks/minutes_real.py llm.model=qwen2.5-coder-0.5b       # another chat model
  python benchmarks/minutes_real.py llm.backend=openai llm.model=gpt-4o-mini   # served elsewhere
  python benchmarks/minutes_real.py --score run_dir/minutes.json --meeting ami_TS3003a
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
MEETINGS = ROOT.parent / "shared" / "benchmarks" / "meetings"
#: AMI's roles, as its annotators and its transcripts name them.
ROLES = {
    "Project Manager": ("project manager", "pm"),
    "Marketing": ("marketing expert", "marketing"),
    "User Interface": ("user interface designer", "user interface", "ui designer", "ui"),
    "Industrial Designer": ("industrial designer", "id"),
    "all": ("team members", "team", "everyone", "everybody", "all", "we", "group", "each member"),
}


def role_of(text: str) -> str:
    """The AMI role a text names first (``all`` for the group), or ``""``."""
    lower = " " + re.sub(r"[^a-z ]", " ", text.lower()) + " "
    best = ("", len(lower))
    for role, names in ROLES.items():
        for name in names:
            at = lower.find(f" {name} ")
            if 0 <= at < best[1]:
                best = (role, at)
    return best[0]


def task_of(reference: str) -> str:
    """A reference action item without its owner ("The ID will present the concept." → "present the concept.")."""
    names = sorted((n for ns in ROLES.values() for n in ns), key=len, reverse=True)
    pattern = (
        r"^\s*(?:the\s+)?(?:"
        + "|".join(map(re.escape, names))
        + r")\b\s*(?:will|should|is to|are to)?\s*(?:need to\s+)?"
    )
    return re.sub(pattern, "", reference, flags=re.I) or reference


def words_of(transcript: Path) -> int:
    text = re.sub(r"\{\w+\}", " ", transcript.read_text(encoding="utf-8"))
    return sum(len(line.split(":", 1)[-1].split()) for line in text.splitlines())


class Matcher:
    """Cosine similarity of sentences with the embedded MiniLM."""

    def __init__(self) -> None:
        from taskdeck import EMBED, BackendParams
        from taskdeck.engine.plugin_manager import get_session
        from taskdeck.engine.session_context import SessionContext

        ctx = SessionContext(get_session(), BackendParams(threads=2), quiet=True)
        self.backend, _ = ctx.model("all-minilm-l6-v2", needs=[EMBED])

    def similarity(self, a: list[str], b: list[str]):
        import numpy as np

        if not a or not b:
            return np.zeros((len(a), len(b)))
        x = np.asarray(self.backend.embed(a), dtype=float)
        y = np.asarray(self.backend.embed(b), dtype=float)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        y /= np.linalg.norm(y, axis=1, keepdims=True)
        return x @ y.T


def numbers(text: str) -> set[str]:
    """Numbers a text says, as digits ("twelve and a half" and "12.50" are both 12.5)."""
    from taskdeck.plugins.tasks.minutes.evidence import when_tokens

    return {t for t in when_tokens(text) if t[0].isdigit()}


def one_to_one(sim, threshold: float, refs: list[str], items: list[str]) -> dict[int, int]:
    """Reference index → minutes index, matched one-to-one at ``threshold`` or above; an item
    must say the reference's numbers ("selling price" is not "the selling price is 25 Euro")."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    if not sim.size:
        return {}
    sim = np.where([[numbers(r) <= numbers(i) for i in items] for r in refs], sim, 0.0)
    rows, cols = linear_sum_assignment(-sim)
    return {int(r): int(c) for r, c in zip(rows, cols) if sim[r, c] >= threshold}


def owner_right(reference: str, owner: str) -> bool:
    want = role_of(reference)
    got = role_of(owner) or owner.strip()
    return bool(want) and got == want


def score(minutes: dict, reference: dict, matcher: Matcher, threshold: float, show: bool) -> dict:
    ref_dec = list(reference["decisions"])
    ref_act = list(reference["action_items"])
    decisions = [d["text"] for d in minutes["decisions"]]
    actions = [a["task"] for a in minutes["action_items"]]  # owners are compared apart, by role

    dec_sim = matcher.similarity(ref_dec, decisions)
    act_sim = matcher.similarity([task_of(r) for r in ref_act], actions)
    dec_match = one_to_one(dec_sim, threshold, ref_dec, decisions)
    act_match = one_to_one(act_sim, threshold, ref_act, actions)
    owners = sum(owner_right(ref_act[r], minutes["action_items"][c]["owner"]) for r, c in act_match.items())

    written = decisions + actions
    refs = ref_dec + [task_of(r) for r in ref_act]
    any_sim = matcher.similarity(written, refs)
    unmatched = [(w, float(any_sim[i].max()) if refs else 0.0) for i, w in enumerate(written)
                 if not refs or any_sim[i].max() < threshold]  # fmt: skip
    if show:
        for title, refs_, items, sim, match in (
            ("decisions", ref_dec, decisions, dec_sim, dec_match),
            ("action items", ref_act, actions, act_sim, act_match),
        ):
            print(f"  {title}:")
            for r, text in enumerate(refs_):
                if r in match:
                    owner = f" ({minutes['action_items'][match[r]]['owner']})" if title == "action items" else ""
                    print(f"    {sim[r, match[r]]:.2f} MATCH  {text}\n               -> {items[match[r]]}{owner}")
                else:
                    best = int(sim[r].argmax()) if items else -1
                    near = f"{sim[r, best]:.2f} {items[best]}" if best >= 0 else "(nothing written)"
                    print(f"    miss   {text}\n               nearest: {near}")
    return {
        "decisions": (len(dec_match), len(ref_dec)),
        "actions": (owners, len(ref_act)),
        "written": len(written),
        "unmatched": unmatched,
    }


def run_minutes(transcript: Path, overrides: list[str], run_dir: Path) -> tuple[dict, float]:
    cmd = [sys.executable, "run.py", "task=minutes", f"transcript={transcript}", "output=json", "quiet=true",
           *overrides, f"hydra.run.dir={run_dir}"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{transcript.stem}: run failed: {proc.stderr.strip()}")
    return json.loads((run_dir / "minutes.json").read_text()), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meetings", type=Path, default=MEETINGS, help="folder of <id>.txt + <id>.json")
    ap.add_argument("--meeting", action="append", help="a meeting id (default: every one in the folder)")
    ap.add_argument("--threshold", type=float, default=0.55, help="cosine similarity for a match")
    ap.add_argument("--score", type=Path, help="score this minutes.json instead of running (one --meeting)")
    ap.add_argument("--show", action="store_true", help="print each reference item and its match")
    ap.add_argument("--keep", type=Path, help="keep each run directory under this folder")
    ap.add_argument("overrides", nargs="*", help="task overrides, e.g. llm.model=qwen2.5-coder-0.5b")
    args = ap.parse_args()
    if not args.meetings.is_dir():
        sys.exit(f"no meetings folder at {args.meetings}: give --meetings <folder>")
    ids = args.meeting or sorted(p.stem for p in args.meetings.glob("*.txt"))
    if args.score and len(ids) != 1:
        sys.exit("--score scores one minutes.json: name its meeting with --meeting <id>")

    matcher = Matcher()
    model = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("llm.model=")), "embedded default")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.keep or Path(tmp)
        for meeting in ids:
            transcript = args.meetings / f"{meeting}.txt"
            reference = json.loads((args.meetings / f"{meeting}.json").read_text())["reference"]
            if args.score:
                minutes, wall = json.loads(args.score.read_text()), float("nan")
            else:
                minutes, wall = run_minutes(transcript, args.overrides, runs / meeting)
            words = words_of(transcript)
            print(f"\n{meeting} ({words} words, {model}):", flush=True)
            result = score(minutes, reference, matcher, args.threshold, args.show)
            for text, best in result["unmatched"]:
                print(f"  unmatched ({best:.2f}): {text}")
            rows.append((meeting, words, wall, result))

    print(f"\nmodel: {model}; match at cosine >= {args.threshold} (all-MiniLM-L6-v2)")
    print("meeting | words | decisions recalled | action items, right owner | written | unmatched | s / 1000 words")
    print("---|---|---|---|---|---|---")
    for meeting, words, wall, r in rows:
        (d, nd), (a, na) = r["decisions"], r["actions"]
        share = len(r["unmatched"]) / r["written"] if r["written"] else 0.0
        print(f"{meeting} | {words} | {d}/{nd} | {a}/{na} | {r['written']} | {len(r['unmatched'])} ({share:.0%}) | "
              f"{wall / words * 1000:.0f}")  # fmt: skip
    if len(rows) > 1:
        d = sum(r["decisions"][0] for *_, r in rows) / max(1, sum(r["decisions"][1] for *_, r in rows))
        a = sum(r["actions"][0] for *_, r in rows) / max(1, sum(r["actions"][1] for *_, r in rows))
        u = sum(len(r["unmatched"]) for *_, r in rows) / max(1, sum(r["written"] for *_, r in rows))
        print(f"all | {sum(w for _, w, _, _ in rows)} | {d:.0%} | {a:.0%} | | {u:.0%} |")


if __name__ == "__main__":
    main()
