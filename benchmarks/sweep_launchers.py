"""A 4-job sweep: Hydra's joblib launcher (2 worker processes) vs the basic launcher.

The sweep is ``task=sentiment`` over a file of reviews split into four shards
(``shard=1/4,2/4,3/4,4/4``) on the embedded SmolLM2 (llama.cpp, one thread per job), so the
four jobs do equal work. Whole processes are timed, Hydra start-up, imports, model loads and
the comparison table included:

  basic   python run.py -m ...                          jobs one after another, one process
  joblib  python run.py -m ... hydra/launcher=joblib hydra.launcher.n_jobs=2
          two jobs at a time, each worker process loads its own plugins and model

Both sweeps must produce the same labels (checked). Needs two free cores to mean anything.

Run from the repository root:  python benchmarks/sweep_launchers.py [--n 240] [--runs 1]
(``--model <folder> --set backend.device=cpu``: a local transformers classifier instead)
"""

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "data" / "sentiment_eval.csv"


def timed(cmd) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def merged_labels(sweep_dir: Path) -> list[str]:
    rows = [json.loads(ln) for ln in (sweep_dir / "merged" / "0" / "results.jsonl").read_text().splitlines()]
    assert all(not r["error"] for r in rows), "a row failed"
    return [r["label"] for r in rows]


def job_seconds(sweep_dir: Path) -> list[float]:
    """Each job's own wall time (``result.json``): the rest of a sweep is start-up and launching."""
    return [json.loads((sweep_dir / str(k) / "result.json").read_text())["metrics"]["wall_s"] for k in range(4)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=240, help="reviews in the input file (split into 4 shards)")
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--runs", type=int, default=1, help="best of this many runs per launcher")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more overrides for every job, e.g. --set backend.device=cpu",
    )
    args = ap.parse_args()
    with open(SAMPLE, newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "reviews.txt"
        data.write_text(
            "\n".join(texts[i % len(texts)] + ("" if i < len(texts) else f" ({i})") for i in range(args.n)) + "\n"
        )
        base = [
            sys.executable,
            "run.py",
            "-m",
            "task=sentiment",
            f"model={args.model}",
            f"input={data}",
            "shard=1/4,2/4,3/4,4/4",
            "backend.threads=1",
            "quiet=true",
            "output=json",
            *args.set,
        ]
        cmds = {
            "basic": [*base, f"hydra.sweep.dir={tmp / 'basic'}"],
            "joblib": [*base, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={tmp / 'joblib'}"],
        }
        times = {name: min(timed(cmd) for _ in range(args.runs)) for name, cmd in cmds.items()}
        assert merged_labels(tmp / "basic") == merged_labels(tmp / "joblib"), "the launchers disagree"
        jobs = {name: job_seconds(tmp / name) for name in cmds}
    print(
        f"4-job sweep (task=sentiment, {args.n} rows in 4 shards, model={args.model}, 1 thread per job), "
        f"whole process (s), best of {args.runs}"
    )
    for name, t in times.items():
        print(f"  {name:<7} {t:7.2f}   (jobs' own wall times: {' + '.join(f'{j:.1f}' for j in jobs[name])})")
    print(f"ratio joblib (2 workers) vs basic launcher: {times['joblib'] / times['basic']:.2f}x  (target <= 0.65x)")


if __name__ == "__main__":
    main()
