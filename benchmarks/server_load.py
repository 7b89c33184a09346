"""N clients at once against ``task=serve`` and ``task=ui`` on loopback: requests/s, p50/p95
latency, answered / refused / lost, and the server's memory after each round.

- ``task=serve`` (its default queue bounds) beside llama-cpp-python's own server
  (``python -m llama_cpp.server``) on the same GGUF and threads, in the same run: chat
  completions of exactly --tokens tokens (``min_tokens`` = ``max_tokens``, so both do the same work).
- ``task=ui``: its ``/sentiment`` API endpoint through gradio_client, one client each; every
  answered request must leave a whole run directory (``result.json`` with status ok).

Each of N clients sends --requests requests one after another, all N at once, each with a
timeout; a request is answered (200 / a result), refused (503 or Gradio's "queue is full")
or lost (no answer, a connection error). Memory: the server process's RSS after a warm-up
and after each round; the largest N runs twice, so a leak shows as growth in the last round.

Run from the repository root, alone (never beside tests or another model):
  python benchmarks/server_load.py [--model qwen2.5-coder-0.5b] [--clients 1 4 16] [--requests 4] [--tokens 32]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ("I love this phone, it is great!", "This is awful, I want a refund.", "It works. Nothing special.")
TIMEOUT_S = 300


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def started(command: list[str], marker: str, cwd: Path) -> tuple[subprocess.Popen, str]:
    """A server process and its URL, read from the line holding ``marker``."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)
    assert proc.stdout is not None
    for line in proc.stdout:
        if marker in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, line
    raise SystemExit(f"{' '.join(command[:4])} exited with {proc.wait()}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def round_of(clients: int, requests: int, send: Callable[[int], str]) -> dict:
    """``clients`` threads at once, each ``requests`` sends; outcomes and latencies."""
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        for i in range(requests):
            t0 = time.perf_counter()
            try:
                outcome = send(number * requests + i)
            except Exception:  # noqa: BLE001 - counted as lost
                outcome = "lost"
            with lock:
                outcomes.append((outcome, time.perf_counter() - t0))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    answered = sorted(s for o, s in outcomes if o == "answered")
    return {
        "answered": len(answered),
        "refused": sum(o == "refused" for o, _ in outcomes),
        "lost": sum(o == "lost" for o, _ in outcomes),
        "req_s": len(answered) / wall,
        "p50_s": statistics.median(answered) if answered else float("nan"),
        "p95_s": answered[min(len(answered) - 1, round(0.95 * (len(answered) - 1)))] if answered else float("nan"),
    }


def chat_sender(url: str, model: str, tokens: int) -> Callable[[int], str]:
    import httpx

    http = httpx.Client(timeout=TIMEOUT_S, limits=httpx.Limits(max_connections=64))

    def send(i: int) -> str:
        body = {
            "model": model,
            "messages": [{"role": "user", "content": f"Write a sentence about the number {i}."}],
            "max_tokens": tokens,
            "min_tokens": tokens,
            "temperature": 0,
            "repeat_penalty": 1.0,  # taskdeck's default (OpenAI's API has none); the raw server's is 1.1
        }
        response = http.post(f"{url}/chat/completions", json=body)
        return {200: "answered", 503: "refused"}.get(response.status_code, "lost")

    return send


def ui_sender(url: str, model: str) -> Callable[[int], str]:
    from gradio_client import Client
    from gradio_client.utils import QueueError

    clients: dict[int, Client] = {}

    def send(i: int) -> str:
        client = clients.setdefault(threading.get_ident(), Client(url, verbose=False))
        try:
            out = client.predict(text=TEXTS[i % len(TEXTS)], model=model, api_name="/sentiment")
        except QueueError:
            return "refused"
        return "answered" if json.loads(out[0])["status"] == "ok" else "lost"

    return send


def measure(name: str, pid: int, send: Callable[[int], str], args: argparse.Namespace) -> list[dict]:
    round_of(1, 2, send)  # warm-up: the model loaded, the first compile paid
    rows, before = [], rss_mb(pid)
    for n in [*args.clients, args.clients[-1]]:  # the largest N twice: memory must not grow again
        again = " (again)" if len(rows) == len(args.clients) else ""
        row = {"server": name, "clients": f"{n}{again}", **round_of(n, args.requests, send), "rss_mb": rss_mb(pid)}
        rows.append(row)
        print(f"  {name} N={n}{again}: {row['req_s']:.2f} req/s", flush=True)
    rows[0]["rss_before_mb"] = before
    return rows


def serve_rows(args: argparse.Namespace, work: Path) -> list[dict]:
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.models import resolve

    gguf = str(resolve(args.model, get_session().packs).path())
    threads = str(len(os.sched_getaffinity(0)))
    ours, line = started(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "task=serve",
            "port=0",
            f"model={args.model}",
            "n_ctx=4096",
            f"backend.threads={threads}",
            f"hydra.run.dir={work / 'serve'}",
        ],
        "use it with:",
        ROOT,
    )
    try:
        url = line.split("backend.base_url=")[1].split()[0]
        rows = measure("task=serve", ours.pid, chat_sender(url, args.model, args.tokens), args)
    finally:
        stop(ours)
    raw, _ = started(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            gguf,
            "--model_alias",
            args.model,
            "--n_ctx",
            "4096",
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--host",
            "127.0.0.1",
            "--port",
            "8765",
        ],
        "Uvicorn running",
        ROOT,
    )
    try:
        rows += measure(
            "llama_cpp.server", raw.pid, chat_sender("http://127.0.0.1:8765/v1", args.model, args.tokens), args
        )
    finally:
        stop(raw)
    return rows


def ui_rows(args: argparse.Namespace, work: Path) -> list[dict]:
    folder = work / "ui"
    folder.mkdir()
    proc, line = started(
        [sys.executable, str(ROOT / "run.py"), "task=ui", "port=0", "tasks=[sentiment]", f"hydra.run.dir={folder}"],
        "taskdeck ui on",
        folder,
    )
    try:
        rows = measure("task=ui", proc.pid, ui_sender(line.split()[3], args.model), args)
    finally:
        stop(proc)
    records = [json.loads(p.read_text()) for p in folder.glob("outputs/sentiment/*/*/result.json")]
    dirs = len(list(folder.glob("outputs/sentiment/*/*")))
    whole = sum(r["status"] == "ok" for r in records)
    print(f"  task=ui run directories: {dirs}, whole (result.json, status ok): {whole}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--requests", type=int, default=4, help="requests per client, one after another")
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taskdeck-load-"))
    print(f"model={args.model}, {args.requests} requests per client, {args.tokens} tokens per chat answer")
    rows = serve_rows(args, work) + ui_rows(args, work)
    raw = {r["clients"]: r for r in rows if r["server"] == "llama_cpp.server"}
    print("\n| server | N | answered | refused | lost | req/s | vs llama_cpp.server | p50 s | p95 s | RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['req_s'] / raw[r['clients']]['req_s']:.2f}×" if r["server"] == "task=serve" else ""
        rss = f"{r['rss_before_mb']:.0f} → {r['rss_mb']:.0f}" if "rss_before_mb" in r else f"{r['rss_mb']:.0f}"
        print(
            f"| {r['server']} | {r['clients']} | {r['answered']} | {r['refused']} | {r['lost']} | {r['req_s']:.2f} "
            f"| {ratio} | {r['p50_s']:.2f} | {r['p95_s']:.2f} | {rss} |"
        )


if __name__ == "__main__":
    main()
