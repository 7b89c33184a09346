"""backend=openai overhead: taskdeck's chat vs the raw openai client, same server, same requests.

Starts ``transformers serve`` on 127.0.0.1 with the embedded SmolLM2 (as the tests do), then
alternates --requests streamed greedy chat completions of --tokens tokens through the raw
``openai`` client and through taskdeck's openai backend, and prints mean latency and time to
first token of each and their ratio (1.00 = no overhead).

Run from the repository root:  python benchmarks/openai_chat.py [--requests 10] [--tokens 32]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
PROMPT = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]


def raw_request(client, model: str, tokens: int) -> tuple[float, float]:
    start = time.perf_counter()
    first = None
    for chunk in client.chat.completions.create(
        model=model,
        messages=PROMPT,
        max_tokens=tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    ):
        if chunk.choices and chunk.choices[0].delta.content and first is None:
            first = time.perf_counter() - start
    return time.perf_counter() - start, first or 0.0


def taskdeck_request(backend, tokens: int) -> tuple[float, float]:
    start = time.perf_counter()
    first: list[float] = []
    backend.chat(
        PROMPT,
        max_new_tokens=tokens,
        temperature=0.0,
        stream=lambda _piece: first or first.append(time.perf_counter() - start),
    )
    return time.perf_counter() - start, first[0] if first else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()

    import openai
    from servers import openai_backend, transformers_folder, transformers_serve

    from taskdeck.engine.plugin_manager import get_session

    session = get_session()
    with (
        tempfile.TemporaryDirectory() as tmp,
        transformers_serve(transformers_folder(session), Path(tmp)) as (base_url, model),
        openai_backend(session, base_url, model) as backend,
    ):
        client = openai.OpenAI(api_key="no-key", base_url=base_url)
        raw_request(client, model, args.tokens)  # warm-up, both paths share the server
        taskdeck_request(backend, args.tokens)
        raw, ours = [], []
        for _ in range(args.requests):
            raw.append(raw_request(client, model, args.tokens))
            ours.append(taskdeck_request(backend, args.tokens))
        client.close()

    def mean(rows, i):
        return statistics.mean(r[i] for r in rows)

    print(f"{args.requests} streamed requests of {args.tokens} tokens, SmolLM2-135M on transformers serve")
    print(f"{'':12}{'latency s':>12}{'first token s':>16}")
    print(f"{'raw openai':12}{mean(raw, 0):12.3f}{mean(raw, 1):16.3f}")
    print(f"{'taskdeck':12}{mean(ours, 0):12.3f}{mean(ours, 1):16.3f}")
    print(f"{'ratio':12}{mean(ours, 0) / mean(raw, 0):12.2f}{mean(ours, 1) / mean(raw, 1):16.2f}")


if __name__ == "__main__":
    main()
