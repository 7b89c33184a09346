"""What a request costs through ``task=ui`` against a ``python run.py`` process per request,
and against the same Runner called in-process with the model already loaded (the page's own
overhead: HTTP, the queue, Hydra's compose, the run directory).

    python benchmarks/ui_latency.py [--model qwen2.5-coder-1.5b] [--n 5]

Run it alone (2 cores are easily saturated); it prints medians and ratios from one run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEXTS = [
    "I love this phone, the battery lasts for days.",
    "The delivery was late and the box was crushed.",
    "It works. Nothing special.",
    "Absolutely wonderful service, thank you!",
    "I want my money back.",
    "The screen is fine but the speakers are weak.",
]


def cli(model: str, text: str, work: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO / "run.py"), "task=sentiment", f"text='{text}'", f"model={model}", "quiet=true"],
        cwd=work,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--n", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taskdeck-ui-bench-"))
    os.chdir(work)
    texts = [TEXTS[i % len(TEXTS)] for i in range(args.n)]
    bytecode = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    print(f"sentiment, model={args.model}, {args.n} requests; PYTHONDONTWRITEBYTECODE={bytecode}")

    per_process = [cli(args.model, t, work) for t in texts]

    from gradio_client import Client

    from taskdeck.app.ui import UiTask, serve

    server = serve(UiTask.Params(port=0), stream=io.StringIO())
    client = Client(server.url, verbose=False)
    page = []
    for text in texts:
        t0 = time.perf_counter()
        record = json.loads(client.predict(text=text, model=args.model, api_name="/sentiment")[0])
        page.append(time.perf_counter() - t0)
        assert record["status"] == "ok", record
    runner = []
    from taskdeck.app.ui.jobs import Request

    for text in texts:
        t0 = time.perf_counter()
        job = server.runs.start(Request("sentiment", {"text": text, "model": args.model}))
        job.done.wait()
        runner.append(time.perf_counter() - t0)
    client.close()
    server.close()

    cold, warm = page[0], statistics.median(page[1:])
    rows = [
        ("python run.py per request (median)", statistics.median(per_process)),
        ("task=ui, first request (loads the model)", cold),
        ("task=ui, later requests (median)", warm),
        ("same Runner in-process, model loaded (median)", statistics.median(runner)),
    ]
    for name, seconds in rows:
        print(f"{name:<48} {seconds:7.2f} s")
    print(f"a warm page request is {statistics.median(per_process) / warm:.1f}x faster than a process per request;")
    print(f"the page adds {warm - statistics.median(runner):+.2f} s to the runner's own time")


if __name__ == "__main__":
    main()
