"""One served model for N clients vs N local processes with their own copy: items/s and memory.

Starts ``python run.py task=serve`` on 127.0.0.1 (the pack given, all threads), then for N in
--clients (1, 2, 4) sends the same --items greedy chat requests (--tokens each) from N client
threads at once through taskdeck's openai backend; beside it, N local processes each load
the pack on the llama_cpp backend with cores/N threads (so N processes share the cores as
they would on this machine) and take an equal share of the items. Printed per N: items/s,
and memory as RSS and PSS summed over the processes (PSS splits the pages of the mmapped
GGUF file that processes share, so it is the fair sum; RSS counts them once per process),
with the served/local ratios.

Run from the repository root, alone (never beside tests or another model):
  python benchmarks/serving.py [--model qwen2.5-coder-0.5b] [--clients 1 2 4] [--items 8] [--tokens 32]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ("a lighthouse", "a red bicycle", "the first snow", "a lost key", "a train station", "an old map")


def prompts(n: int) -> list[list[dict]]:
    return [[{"role": "user", "content": f"Write two sentences about {TOPICS[i % len(TOPICS)]}."}] for i in range(n)]


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in kB, from /proc."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                values[key] = int(rest.split()[0])
    return values.get("Rss", 0), values.get("Pss", 0)


def cpus() -> int:
    return len(os.sched_getaffinity(0))


# ---- served ----
def start_server(model: str, threads: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "task=serve",
            "port=0",
            f"model={model}",
            "n_ctx=4096",
            f"backend.threads={threads}",
            "hydra.run.dir=/tmp/taskdeck-serving-bench",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "backend.base_url=" in line:
            return proc, line.split("backend.base_url=")[1].split()[0]
    raise SystemExit(f"task=serve exited with {proc.wait()}")


def served_run(url: str, model: str, items: list, tokens: int, clients: int) -> float:
    """items/s with ``clients`` threads, each with its own openai backend, sharing the items."""
    from taskdeck.models import remote
    from taskdeck.plugins.backends.openai_api import OpenAIBackend, OpenAIParams

    backends = [OpenAIBackend(remote(model), OpenAIParams(base_url=url, timeout=600)) for _ in range(clients)]
    for b in backends:
        b.load()
    shares = [items[i::clients] for i in range(clients)]

    def work(backend, share):
        for messages in share:
            backend.chat(messages, max_new_tokens=tokens, temperature=0.0)

    threads = [threading.Thread(target=work, args=(b, s)) for b, s in zip(backends, shares)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(items) / (time.perf_counter() - start)


# ---- local processes ----
def local_worker(model: str, threads: int, share: list, tokens: int, ready, go, out) -> None:
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.models import resolve
    from taskdeck.plugins.backends.llama_cpp import LlamaCppBackend, LlamaCppParams

    backend = LlamaCppBackend(resolve(model, get_session().packs), LlamaCppParams(threads=threads, n_ctx=4096))
    backend.load()
    ready.release()
    go.wait()
    for messages in share:
        backend.chat(messages, max_new_tokens=tokens, temperature=0.0)
    out.put(memory_kb(os.getpid()))


def local_run(model: str, items: list, tokens: int, processes: int) -> tuple[float, int, int]:
    """(items/s, summed RSS kB, summed PSS kB) of ``processes`` processes, each its own model."""
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    threads = max(1, cpus() // processes)
    shares = [items[i::processes] for i in range(processes)]
    procs = [ctx.Process(target=local_worker, args=(model, threads, s, tokens, ready, go, out)) for s in shares]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    mems = [out.get() for _ in procs]
    seconds = time.perf_counter() - start
    for p in procs:
        p.join()
    return len(items) / seconds, sum(m[0] for m in mems), sum(m[1] for m in mems)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--items", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    items = prompts(args.items)
    print(f"model {args.model}, {args.items} items x {args.tokens} tokens, greedy, {cpus()} CPUs")
    print(f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    server, url = start_server(args.model, cpus())
    rows = []
    try:
        served_run(url, args.model, items[:1], 4, 1)  # warm up
        for n in args.clients:
            before = memory_kb(server.pid)
            served = served_run(url, args.model, items, args.tokens, n)
            after = memory_kb(server.pid)
            local, rss, pss = local_run(args.model, items, args.tokens, n)
            rows.append((n, served, local, max(before[0], after[0]), max(before[1], after[1]), rss, pss))
    finally:
        server.terminate()
        server.wait()
    print(
        "\n| clients | served items/s | local items/s | served/local | served PSS MB | local PSS MB | "
        "local/served PSS | served RSS MB | local RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, served, local, s_rss, s_pss, l_rss, l_pss in rows:
        print(
            f"| {n} | {served:.2f} | {local:.2f} | {served / local:.2f}x | {s_pss / 1024:.0f} | {l_pss / 1024:.0f} | "
            f"{l_pss / s_pss:.2f}x | {s_rss / 1024:.0f} | {l_rss / 1024:.0f} |"
        )
    print(f"\nmedian served/local items/s: {statistics.median(r[1] / r[2] for r in rows):.2f}x")


if __name__ == "__main__":
    main()
