"""Batch memory: peak RSS of a batch run at two sizes, taskdeck vs the raw pipeline.

A tiny random BERT classifier (2 layers, 32 wide, all-MiniLM-L6-v2's real tokenizer) keeps the
model small, so what grows with the input is the batch machinery itself. Rows are short
synthetic reviews (seeded). Whole processes, one after another (never two at once):

  taskdeck  run.py task=text-classification input=rows.csv backend=transformers
            (rows read lazily, results appended, put in order on disk)
  raw       the file read into a list, transformers.pipeline(texts, batch_size=B), the
            results written as JSONL: what a script without streaming does

Peak RSS is the process's VmHWM (result.json's peak_rss_mb for taskdeck, /proc for raw).

Run from the repository root:  python benchmarks/batch_memory.py [--sizes 1000 1000000] [--batch 64]
"""

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "the service was quick and friendly but the coffee arrived cold prices are fair portions generous "
    "delivery took three days longer than promised packaging was damaged works fine otherwise"
).split()

RAW = """
import csv, json, sys
from transformers import pipeline
with open(sys.argv[1], newline="") as f:
    texts = [row["text"] for row in csv.DictReader(f)]
pipe = pipeline("text-classification", model=sys.argv[2], device="cpu")
out = pipe(texts, batch_size=int(sys.argv[3]))
with open(sys.argv[4], "w") as f:
    for i, (t, o) in enumerate(zip(texts, out)):
        f.write(json.dumps({"index": i, "text": t, "label": o["label"], "score": o["score"]}) + "\\n")
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
print(int(hwm.split()[1]) / 1024)
"""


def tiny_classifier(folder: Path) -> None:
    import torch
    import transformers

    from taskdeck.engine.plugin_manager import get_session

    tok = transformers.AutoTokenizer.from_pretrained(get_session().packs.get("all-minilm-l6-v2").path())
    config = transformers.BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    tok.save_pretrained(folder)


def write_rows(path: Path, n: int) -> None:
    rng = random.Random(0)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        for _ in range(n):
            w.writerow([" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 24)))])


def run(cmd: list) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--no-raw", action="store_true", help="only taskdeck")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tiny_classifier(tmp / "model")
        (tmp / "raw.py").write_text(RAW)
        for n in args.sizes:
            data = tmp / f"rows{n}.csv"
            write_rows(data, n)
            seconds, _ = run(
                [
                    sys.executable,
                    "run.py",
                    "task=text-classification",
                    f"input={data}",
                    f"model={tmp / 'model'}",
                    "backend=transformers",
                    f"backend.batch_size={args.batch}",
                    "output=json",
                    "quiet=true",
                    f"hydra.run.dir={tmp / f'run{n}'}",
                ]
            )
            record = json.loads((tmp / f"run{n}" / "result.json").read_text())
            assert record["result"]["ok"] == n, record["result"]
            row = {
                "rows": n,
                "taskdeck_s": seconds,
                "taskdeck_mb": record["metrics"]["peak_rss_mb"],
                "result_json_kb": (tmp / f"run{n}" / "result.json").stat().st_size / 1024,
            }
            if not args.no_raw:
                seconds, out = run(
                    [sys.executable, tmp / "raw.py", data, tmp / "model", str(args.batch), tmp / f"raw{n}.jsonl"]
                )
                row.update(raw_s=seconds, raw_mb=float(out.strip().splitlines()[-1]))
            rows.append(row)
            data.unlink()
    print(f"peak RSS (MiB) and wall seconds, whole process, batch size {args.batch}")
    print(f"{'rows':>9} {'taskdeck MiB':>13} {'raw MiB':>9} {'taskdeck s':>11} {'raw s':>8} {'result.json KiB':>16}")
    for r in rows:
        print(
            f"{r['rows']:>9} {r['taskdeck_mb']:>13.1f} {r.get('raw_mb', float('nan')):>9.1f} "
            f"{r['taskdeck_s']:>11.1f} {r.get('raw_s', float('nan')):>8.1f} {r['result_json_kb']:>16.1f}"
        )
    first, last = rows[0], rows[-1]
    sizes = f"{last['rows']} rows / {first['rows']} rows"
    print(f"taskdeck peak RSS, {sizes}: {last['taskdeck_mb'] / first['taskdeck_mb']:.2f}x")
    if "raw_mb" in last:
        print(f"raw pipeline peak RSS, {sizes}: {last['raw_mb'] / first['raw_mb']:.2f}x")
        print(f"speed taskdeck vs raw at {last['rows']} rows: {last['raw_s'] / last['taskdeck_s']:.2f}x")


if __name__ == "__main__":
    main()
