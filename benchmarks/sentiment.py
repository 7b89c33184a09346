"""Sentiment wall times: whole-process CLI runs, and warm in-process throughput vs raw llama.cpp.

  cold  ``run.py task=sentiment text=... output=text`` as a whole process (model load
        included), --runs times; median wall seconds, and load_s / run_s / peak_rss_mb
        from each run's result.json.
  warm  one process, model loaded once, --texts review sentences classified one by one
        through taskdeck's SentimentTask (label scoring, one forward pass per text) and,
        interleaved text by text, through raw llama-cpp-python done naively
        (create_chat_completion with the same prompts, max_tokens=3, temperature=0, label
        parsed from the reply).
        Reports per-text latency, texts/s, the ratio taskdeck/raw and label agreement.

Run from the repository root:
  python benchmarks/sentiment.py [--model qwen2.5-coder-1.5b] [--runs 3] [--texts 20]
  python benchmarks/sentiment.py --model smollm2-135m      # quick plumbing check
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TEXTS = [
    "Absolutely loved it, the battery lasts for days.",
    "The screen cracked after one week. Total waste of money.",
    "It arrived on Tuesday in a brown box.",
    "Best purchase I've made this year, highly recommend!",
    "Customer service never answered my emails.",
    "The manual is 40 pages long and printed in English and French.",
    "Sound quality is superb and the setup took two minutes.",
    "It stopped charging after a month and the refund was refused.",
    "The colour is grey, as shown in the pictures.",
    "Fantastic value, my kids use it every day.",
    "Cheap plastic, it feels like it will break any moment.",
    "I used it twice so far.",
    "Works exactly as described and the app is a joy to use.",
    "Terrible smell out of the box, I had to return it.",
    "The package includes a cable and a charger.",
    "Five stars, the staff were friendly and helpful.",
    "Slow, noisy and overpriced. Avoid.",
    "It is the same size as my previous one.",
    "The food was delicious and the view was stunning.",
    "Worst hotel stay ever: dirty sheets and rude staff.",
]


def cold(model, runs, tmp):
    """Whole-process CLI runs; returns rows of (wall_s, metrics, printed line)."""
    rows = []
    for i in range(runs):
        run_dir = Path(tmp) / f"cold{i}"
        cmd = [
            sys.executable,
            "run.py",
            "task=sentiment",
            f"text={TEXTS[i % len(TEXTS)]!r}",
            f"model={model}",
            "output=text",
            f"hydra.run.dir={run_dir}",
        ]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode:
            sys.exit(f"cold run failed ({proc.returncode}):\n{proc.stderr}")
        metrics = json.loads((run_dir / "result.json").read_text())["metrics"]
        rows.append((seconds, metrics, proc.stdout.strip()))
    return rows


def first_call(fn):
    """Seconds fn("great") takes: model load plus the first text."""
    start = time.perf_counter()
    fn("great")
    return time.perf_counter() - start


def taskdeck_classifier(model):
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.llama_cpp import LlamaCppParams
    from taskdeck.plugins.tasks.classification import SentimentTask

    ctx = SessionContext(get_session(), LlamaCppParams(), run_dir=None, quiet=True)
    task, P = SentimentTask(), SentimentTask.Params
    return (lambda text: task.run(P(text=text, model=model), ctx).labels[0].label), ctx.close


def raw_classifier(model):
    from llama_cpp import Llama

    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.plugins.tasks.classification import SENTIMENT_PROMPT as PROMPT
    from taskdeck.plugins.tasks.classification import SYSTEM, SentimentTask

    labels = SentimentTask.Params(text="").labels
    llm = None

    def classify(text):
        nonlocal llm
        if llm is None:  # loaded on the first call, like taskdeck
            llm = Llama(model_path=str(get_session().packs.get(model).path()), n_threads=os.cpu_count(), verbose=False)
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": PROMPT.format(text=text, labels=", ".join(labels))},
        ]
        reply = llm.create_chat_completion(messages=messages, max_tokens=3, temperature=0)
        said = (reply["choices"][0]["message"]["content"] or "").lower()
        found = [(said.find(lbl), lbl) for lbl in labels if lbl in said]
        return min(found)[1] if found else f"?{said.strip()!r}"

    return classify, lambda: llm.close()


def warm(model, texts):
    """Both classifiers loaded, then the texts interleaved (background load hits both alike).
    Returns {name: (first_s, per-text seconds, labels)}."""
    made = {"taskdeck": taskdeck_classifier(model), "raw": raw_classifier(model)}
    out = {name: (first_call(fn), [], []) for name, (fn, _) in made.items()}
    for text in texts:
        for name, (fn, _) in made.items():
            start = time.perf_counter()
            out[name][2].append(fn(text))
            out[name][1].append(time.perf_counter() - start)
    for _, close in made.values():
        close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="model pack alias")
    ap.add_argument("--runs", type=int, default=3, help="cold whole-process runs (default 3)")
    ap.add_argument("--texts", type=int, default=20, help=f"warm texts, at most {len(TEXTS)} (default 20)")
    args = ap.parse_args()
    texts = TEXTS[: args.texts]

    print(f"model {args.model}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="taskdeck-sentiment-") as tmp:
        rows = cold(args.model, args.runs, tmp)
    print(f"\ncold: whole-process CLI runs ({args.runs})")
    print(f"  {'wall_s':>7} {'load_s':>7} {'run_s':>7} {'rss_mb':>7}  printed")
    for seconds, m, line in rows:
        print(f"  {seconds:7.3f} {m['load_s']:7.3f} {m['run_s']:7.3f} {m['peak_rss_mb']:7.1f}  {line}")
    print(f"  median wall {statistics.median(r[0] for r in rows):.3f} s")

    results = warm(args.model, texts)
    print(f"\nwarm: {len(texts)} texts in one process, interleaved (1st_s: load + a warm-up text)")
    print(f"  {'':9} {'1st_s':>7} {'med_ms':>7} {'mean_ms':>7} {'max_ms':>7} {'texts/s':>8}")
    rate, med = {}, {}
    for name, (load, seconds, _) in results.items():
        rate[name], med[name] = len(seconds) / sum(seconds), statistics.median(seconds)
        print(
            f"  {name:9} {load:7.3f} {1e3 * statistics.median(seconds):7.1f} "
            f"{1e3 * statistics.mean(seconds):7.1f} {1e3 * max(seconds):7.1f} {rate[name]:8.2f}"
        )
    print(
        f"  ratio taskdeck/raw texts/s: {rate['taskdeck'] / rate['raw']:.2f}x "
        f"(from median latencies: {med['raw'] / med['taskdeck']:.2f}x)"
    )

    ours, raw = results["taskdeck"][2], results["raw"][2]
    agree = sum(a == b for a, b in zip(ours, raw))
    print(f"  label agreement: {agree}/{len(texts)}")
    for text, a, b in zip(texts, ours, raw):
        if a != b:
            print(f"    taskdeck {a:8} raw {b:10} | {text}")


if __name__ == "__main__":
    main()
