"""Batched greedy generation on llama.cpp: several sequences per decode step vs one at a time.

Two jobs on the same GGUF model and threads, greedy:

  chat       --prompts questions (one system prompt), at most --tokens each: llama-cpp-python's
             own create_chat_completion one at a time, taskdeck's ``chat`` one at a time, then
             ``chat_batch`` with backend.n_parallel = each of --widths. Tokens/s of answers
             (prompt evaluation included); "same" counts answers equal to one at a time.
  synthetic  run.py task=synthetic temperatures=[0] (greedy, so requests are decoded together)
             count=--records batch_size=--batch-size, per --synthetic-widths; records/s from
             result.json's generate_s (loading excluded); "same" says whether the records
             equal those of n_parallel=1.

On a CPU a decode step of one sequence is bound by reading the weights or by the matrix
kernels, depending on the machine: the ratios say which. Run from the repository root:

    python benchmarks/batched_generation.py [--model qwen2.5-coder-1.5b] [--threads N]
        [--prompts 16] [--tokens 96] [--widths 2,4,8] [--records 20] [--synthetic-widths 1,4]
"""

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m")
SYSTEM = "You are a helpful assistant. Answer clearly and briefly."
TOPICS = (
    "how a bicycle gear works",
    "why the sky is blue",
    "what a hash table is",
    "how to make a cup of tea",
    "what causes the seasons",
    "how a refrigerator keeps food cold",
    "what a prime number is",
    "how bees make honey",
    "why bread rises",
    "how a compass works",
    "what photosynthesis does",
    "how to tie a bowline knot",
    "why we have time zones",
    "how a vaccine trains the immune system",
    "what a black hole is",
    "how rainbows form",
)


def questions(n: int) -> list[list[dict]]:
    return [
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Explain {TOPICS[i % len(TOPICS)]}."}]
        for i in range(n)
    ]


def chat_rows(model: str, threads: int, prompts: int, tokens: int, widths: list[int]) -> list[tuple]:
    from taskdeck import CHAT
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.llama_cpp import LlamaCppParams

    ctx = SessionContext(get_session(), LlamaCppParams(threads=threads, n_ctx=1024), quiet=True)
    backend = ctx.model(model, needs=[CHAT]).backend
    convos = questions(prompts)
    start = time.perf_counter()
    raw = [backend.llm.create_chat_completion(messages=c, max_tokens=tokens, temperature=0.0) for c in convos]
    raw_seconds = time.perf_counter() - start
    start = time.perf_counter()
    alone = [backend.chat(c, max_new_tokens=tokens) for c in convos]
    alone_seconds = time.perf_counter() - start
    texts = [r["choices"][0]["message"]["content"] for r in raw]
    rows = [
        ("llama-cpp-python, one at a time", sum(r["usage"]["completion_tokens"] for r in raw), raw_seconds,
         sum(t == a.text for t, a in zip(texts, alone))),
        ("taskdeck chat, one at a time", sum(g.completion_tokens for g in alone), alone_seconds, len(alone)),
    ]  # fmt: skip
    for width in widths:
        backend.params = dataclasses.replace(backend.params, n_parallel=width)
        start = time.perf_counter()
        gens = backend.chat_batch(convos, max_new_tokens=tokens)
        seconds = time.perf_counter() - start
        same = sum(a.text == b.text for a, b in zip(alone, gens))
        rows.append((f"taskdeck chat_batch, n_parallel={width}", sum(g.completion_tokens for g in gens), seconds, same))
    ctx.close()
    return rows


def synthetic_rows(model: str, threads: int, records: int, batch_size: int, widths: list[int], tmp: Path):
    rows, first = [], None
    for width in widths:
        out, run = tmp / f"records-{width}.jsonl", tmp / f"synthetic-{width}"
        cmd = [
            sys.executable,
            "run.py",
            "task=synthetic",
            "kind='customer reviews for a coffee shop'",
            "fields=[customer:str,rating:int:1..5,review:str:one or two sentences]",
            f"count={records}",
            f"batch_size={batch_size}",
            "temperatures=[0]",
            "dedup=false",
            f"model={model}",
            "backend=llama_cpp",
            f"backend.threads={threads}",
            f"backend.n_parallel={width}",
            f"out={out}",
            "quiet=true",
            f"hydra.run.dir={run}",
        ]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr)
        metrics = json.loads((run / "result.json").read_text())["metrics"]
        text = out.read_text()
        first = text if first is None else first
        rows.append((f"task=synthetic, n_parallel={width}", metrics["items"], metrics["generate_s"], text == first))
    return rows


def main():
    from taskdeck.helpers.cpu import available_cpus

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=MODELS[0], help=f"a GGUF pack ({', '.join(MODELS)}) or path")
    ap.add_argument("--threads", type=int, default=available_cpus())
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--widths", default="2,4,8", help="n_parallel values for chat_batch")
    ap.add_argument("--records", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=5)
    ap.add_argument("--synthetic-widths", default="1,4", help="n_parallel values for task=synthetic (first: baseline)")
    args = ap.parse_args()
    widths = [int(w) for w in args.widths.split(",") if w]
    print(f"{args.model}, {args.threads} threads, greedy")
    print(f"chat: {args.prompts} prompts, <= {args.tokens} tokens each")
    print(f"  {'':38} {'tokens':>7} {'seconds':>8} {'tokens/s':>9} {'ratio':>7} {'same':>6}")
    rows = chat_rows(args.model, args.threads, args.prompts, args.tokens, widths)
    base = rows[1][1] / rows[1][2]
    for name, tokens, seconds, same in rows:
        shown = f"{same}/{args.prompts}"
        print(
            f"  {name:38} {tokens:7d} {seconds:8.1f} {tokens / seconds:9.1f} {tokens / seconds / base:6.2f}x {shown:>6}"
        )
    synthetic_widths = [int(w) for w in args.synthetic_widths.split(",") if w]
    if synthetic_widths:
        print(f"synthetic: {args.records} records, {args.batch_size} per request, temperatures=[0]")
        print(f"  {'':38} {'records':>7} {'seconds':>8} {'records/s':>9} {'ratio':>7} {'same':>6}")
        with tempfile.TemporaryDirectory() as tmp:
            srows = synthetic_rows(args.model, args.threads, args.records, args.batch_size, synthetic_widths, Path(tmp))
        base = srows[0][1] / srows[0][2]
        for name, n, seconds, same in srows:
            print(f"  {name:38} {n:7d} {seconds:8.1f} {n / seconds:9.2f} {n / seconds / base:6.2f}x {str(same):>6}")


if __name__ == "__main__":
    main()
