"""Batch text classification: taskdeck vs raw ``transformers.pipeline(batch_size=B)``.

The model is a real-size encoder: all-MiniLM-L6-v2's weights (the embedded pack) under a
fresh 2-label classification head, saved to a temp folder, so both sides run the same
6-layer network with the real tokenizer. 2,000 synthetic texts of mixed length (3–200
words, seeded). Whole processes are timed, imports and loading included:

  raw         pipeline(texts, batch_size=B), texts in file order
  raw-sorted  the same on texts sorted by length (what length-sorting buys, same library)
  taskdeck    run.py task=text-classification input=texts.txt backend=transformers
              backend.batch_size=B (sorts by length, writes results in input order)

Runs are interleaved (raw, raw-sorted, taskdeck, then again) and each side's median is
reported. Run from the repository root, alone on the machine:
  python benchmarks/batch_classification.py [--n 2000] [--batch 32] [--runs 3]
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "the service was quick and friendly but the coffee arrived cold so we asked for another cup "
    "prices are fair portions generous and the staff remembered our names which we loved delivery "
    "took three days longer than promised packaging was damaged product works fine otherwise"
).split()

RAW = """
import sys, time
from transformers import pipeline
texts = open(sys.argv[1]).read().splitlines()
if sys.argv[4] == "sorted":
    texts = sorted(texts, key=len)
pipe = pipeline("text-classification", model=sys.argv[2], device="cpu")
out = pipe(texts, batch_size=int(sys.argv[3]))
assert len(out) == len(texts)
"""


def build_model(folder: Path) -> None:
    from transformers import AutoTokenizer, BertForSequenceClassification

    from taskdeck.engine.plugin_manager import get_session

    src = get_session().packs.get("all-minilm-l6-v2").path()
    model = BertForSequenceClassification.from_pretrained(
        src, num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1}
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(src).save_pretrained(folder)


def timed(cmd) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build_model(tmp / "model")
        texts = tmp / "texts.txt"
        texts.write_text(
            "\n".join(
                " ".join(rng.choice(WORDS) for _ in range(int(rng.paretovariate(1.2) * 3) % 198 + 3))
                for _ in range(args.n)
            )
            + "\n"
        )
        (tmp / "raw.py").write_text(RAW)
        cmds = {
            "raw": [sys.executable, tmp / "raw.py", texts, tmp / "model", str(args.batch), "unsorted"],
            "raw-sorted": [sys.executable, tmp / "raw.py", texts, tmp / "model", str(args.batch), "sorted"],
            "taskdeck": [
                sys.executable,
                "run.py",
                "task=text-classification",
                f"input={texts}",
                f"model={tmp / 'model'}",
                "backend=transformers",
                f"backend.batch_size={args.batch}",
                "output=text",
                "quiet=true",
            ],
        }
        runs: dict[str, list[float]] = {name: [] for name in cmds}
        for i in range(args.runs):  # interleaved, so load on the machine hits every side alike
            for name, cmd in cmds.items():  # each taskdeck run in a fresh run directory (none resumes)
                runs[name].append(timed([*cmd, f"hydra.run.dir={tmp / f'run{i}'}"] if name == "taskdeck" else cmd))
        times = {name: statistics.median(t) for name, t in runs.items()}
        rows = [json.loads(ln) for ln in (tmp / "run0" / "results.jsonl").read_text().splitlines()]
        assert len(rows) == args.n and all(not r["error"] for r in rows)
    print(f"{args.n} texts, batch size {args.batch}, whole process (s), median of {args.runs}")
    for name, t in times.items():
        print(f"  {name:<11} {t:7.2f}   {args.n / t:7.1f} texts/s")
    print(f"ratio taskdeck vs raw pipeline:         {times['raw'] / times['taskdeck']:.2f}x")
    print(f"ratio taskdeck vs raw-sorted pipeline:  {times['raw-sorted'] / times['taskdeck']:.2f}x  (target >= 1.0x)")
    print(f"ratio length-sorted vs unsorted (raw):  {times['raw'] / times['raw-sorted']:.2f}x  (target >= 1.3x)")


if __name__ == "__main__":
    main()
