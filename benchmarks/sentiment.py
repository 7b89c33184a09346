"""Sentiment wall times: whole-process CLI runs, and warm in-process throughput vs raw llama.cpp.

  cold  ``run.py task=sentiment text=... output=text`` as a whole process (model load
        included), --runs times; median wall seconds, and load_s / run_s / peak_rss_mb
        from each run's result.json.
  warm  one process, model loaded once, --texts review sentences classified one by one
        through taskdeck's SentimentTask (label scoring, one forward pass per text); then
        the same texts through raw llama-cpp-python done naively (create_chat_completion
        with the same prompts, max_tokens=3, temperature=0, label parsed from the reply).
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
        cmd = [sys.executable, "run.py", "task=sentiment", f"text={TEXTS[i % len(TEXTS)]!r}",
               f"model={model}", "output=text", f"hydra.run.dir={run_dir}"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode:
            sys.exit(f"cold run failed ({proc.returncode}):\n{proc.stderr}")
        metrics = json.loads((run_dir / "result.json").read_text())["metrics"]
        rows.append((seconds, metrics, proc.stdout.strip()))
    return rows


def timed(fn, texts):
    """Per-text seconds and answers of fn over texts."""
    seconds, answers = [], []
    for text in texts:
        start = time.perf_counter()
        answers.append(fn(text))
        seconds.append(time.perf_counter() - start)
    return seconds, answers


def warm_taskdeck(model, texts):
    from taskdeck.context import RunContext
    from taskdeck.plugin_manager import get_session
    from taskdeck.plugins.backends.llama_cpp import LlamaCppParams
    from taskdeck.plugins.tasks.sentiment import SentimentTask

    ctx = RunContext(get_session(), LlamaCppParams(), run_dir=None, quiet=True)
    task, P = SentimentTask(), SentimentTask.Params
    start = time.perf_counter()
    task.run(P(text="great", model=model), ctx)  # load + first text
    load = time.perf_counter() - start
    seconds, answers = timed(lambda t: task.run(P(text=t, model=model), ctx).labels[0].label, texts)
    ctx.close()
    return load, seconds, answers


def warm_raw(model, texts):
    from llama_cpp import Llama

    from taskdeck.plugin_manager import get_session
    from taskdeck.plugins.tasks.sentiment import PROMPT, SYSTEM, SentimentTask

    labels = SentimentTask.Params(text="").labels
    start = time.perf_counter()
    llm = Llama(model_path=str(get_session().packs.get(model).path()), n_threads=os.cpu_count(),
                verbose=False)

    def classify(text):
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": PROMPT.format(text=text, labels=", ".join(labels))}]
        reply = llm.create_chat_completion(messages=messages, max_tokens=3, temperature=0)
        said = (reply["choices"][0]["message"]["content"] or "").lower()
        found = [(said.find(lbl), lbl) for lbl in labels if lbl in said]
        return min(found)[1] if found else f"?{said.strip()!r}"

    classify("great")  # load + first text, as taskdeck's first call
    load = time.perf_counter() - start
    seconds, answers = timed(classify, texts)
    llm.close()
    return load, seconds, answers


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

    results = {"taskdeck": warm_taskdeck(args.model, texts), "raw": warm_raw(args.model, texts)}
    print(f"\nwarm: {len(texts)} texts in one process (after load + one warm-up text)")
    print(f"  {'':9} {'1st_s':>7} {'med_ms':>7} {'mean_ms':>7} {'max_ms':>7} {'texts/s':>8}")
    rate = {}
    for name, (load, seconds, _) in results.items():
        rate[name] = len(seconds) / sum(seconds)
        print(f"  {name:9} {load:7.3f} {1e3 * statistics.median(seconds):7.1f} "
              f"{1e3 * statistics.mean(seconds):7.1f} {1e3 * max(seconds):7.1f} {rate[name]:8.2f}")
    print(f"  ratio taskdeck/raw texts/s: {rate['taskdeck'] / rate['raw']:.2f}x")

    ours, raw = results["taskdeck"][2], results["raw"][2]
    agree = sum(a == b for a, b in zip(ours, raw))
    print(f"  label agreement: {agree}/{len(texts)}")
    for text, a, b in zip(texts, ours, raw):
        if a != b:
            print(f"    taskdeck {a:8} raw {b:10} | {text}")


if __name__ == "__main__":
    main()
