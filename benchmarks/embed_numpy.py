"""Sentence embeddings: taskdeck's ``backend=numpy`` vs raw sentence-transformers (on torch).

The texts are the archive's passages of a real meeting: the AMI meeting TS3011b (about 7,300
words, ``../shared/benchmarks/meetings/``) cut into windows of four turns, every second turn a
new window (about 300 texts). Both sides embed them with the embedded all-MiniLM-L6-v2 pack
(batch 32) in one process, interleaved, after a warm-up; each side's median is reported with
the ratio and the largest difference between the two sides' vectors. Load times are reported
apart (sentence-transformers imports torch). Run from the repository root, alone on the machine:

    python benchmarks/embed_numpy.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEETING = ROOT.parent / "shared" / "benchmarks" / "meetings" / "ami_TS3011b.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import numpy as np

    from taskdeck import EMBED, BackendParams
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.engine.session_context import SessionContext

    turns = [t["text"] for t in json.loads(MEETING.read_text())["transcript"]]
    texts = [" ".join(turns[i : i + 4]) for i in range(0, len(turns), 2)]
    session = get_session()
    start = time.perf_counter()
    ctx = SessionContext(session, BackendParams())
    ours, _ = ctx.model("all-minilm-l6-v2", needs=[EMBED])
    ours_load = time.perf_counter() - start
    assert ours.name == "numpy", ours.name
    start = time.perf_counter()
    from sentence_transformers import SentenceTransformer

    raw = SentenceTransformer(str(session.packs.get("all-minilm-l6-v2").path()), device="cpu")
    raw_load = time.perf_counter() - start
    ours.embed(texts[:32])
    raw.encode(texts[:32], batch_size=32)
    times: dict[str, list[float]] = {"taskdeck numpy": [], "sentence-transformers": []}
    for _ in range(args.runs):
        start = time.perf_counter()
        a = np.array(ours.embed(texts))
        times["taskdeck numpy"].append(time.perf_counter() - start)
        start = time.perf_counter()
        b = raw.encode(texts, batch_size=32)
        times["sentence-transformers"].append(time.perf_counter() - start)
    ctx.close()
    print(f"{len(texts)} passages of {MEETING.stem}, {args.runs} runs each, interleaved")
    print(f"load: taskdeck numpy {ours_load:.2f} s, sentence-transformers (torch import included) {raw_load:.2f} s")
    for side, runs in times.items():
        print(f"  {side:22} median {statistics.median(runs):.2f} s")
    ratio = statistics.median(times["taskdeck numpy"]) / statistics.median(times["sentence-transformers"])
    print(f"ratio (numpy / sentence-transformers): {ratio:.2f}; largest difference {np.abs(a - b).max():.1e}")


if __name__ == "__main__":
    main()
