"""Real OpenAI-compatible servers for tests: ``transformers serve`` on 127.0.0.1.

The embedded SmolLM2 pack is a GGUF file; ``transformers serve`` needs a transformers
folder, so the transformers backend dequantizes it once (its own cache of converted GGUF
models) and the server is pinned to that folder under a short model name.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

SMOLLM2_PACK = "smollm2-135m"
SERVED_NAME = "SmolLM2-135M-Instruct"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def transformers_folder(session, pack: str = SMOLLM2_PACK) -> Path:
    """A transformers folder (safetensors, tokenizer, chat template) for a GGUF ``pack``,
    converted once by the transformers backend and cached."""
    from taskdeck.models import resolve
    from taskdeck.plugins.backends.hf_transformers import TransformersBackend, TransformersParams

    backend = TransformersBackend(resolve(pack, session.packs), TransformersParams(threads=1))
    folder = backend._converted_dir()
    if not (folder / ".complete").is_file():
        backend.load()  # dequantizes and saves the folder
        backend.unload()
    return folder


def wait_until_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 300.0) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log if it dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode} before it was ready:\n" + log.read_text(errors="replace")[-3000:]
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server not ready after {timeout:.0f} s:\n" + log.read_text(errors="replace")[-3000:])


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate the server process (and kill it if it does not exit in ``grace`` seconds)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def transformers_serve(
    folder: Path, workdir: Path, name: str = SERVED_NAME, threads: int = 1
) -> Iterator[tuple[str, str]]:
    """Run ``transformers serve`` pinned to ``folder`` on a free loopback port.

    Yields ``(base_url, model_name)``: the ``/v1`` URL and the name requests must send.
    The server runs in ``workdir`` where ``name`` is a link to the folder.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / name
    if not link.exists():
        link.symlink_to(folder, target_is_directory=True)
    port = free_port()
    log = workdir / "server.log"
    hub_cache = workdir / "hf-cache"  # /v1/models scans it, and fails when it is missing
    hub_cache.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(hub_cache),
        "OMP_NUM_THREADS": str(threads),
        "TRANSFORMERS_VERBOSITY": "error",
    }
    env.pop("OPENAI_API_KEY", None)
    cli = Path(sys.executable).with_name("transformers")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(cli),
                "serve",
                name,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--device",
                "cpu",
                "--dtype",
                "float32",
                "--log-level",
                "warning",
            ],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", proc, log)
        yield f"http://127.0.0.1:{port}/v1", name
    finally:
        stop(proc)


# ---- a local HTTP server answering in the OpenAI API's documented shapes ----
@contextlib.contextmanager
def api_shaped_server() -> Iterator:
    """A pytest-httpserver on 127.0.0.1 (threaded, so a slow answer does not block the next
    request); tests tell it what to answer. Yields the ``HTTPServer``."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def chat_chunk(content: str | None = None, finish: str | None = None, usage: dict | None = None) -> dict:
    """One ``chat.completion.chunk`` event of a streamed chat completion."""
    delta = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": usage,
    }


def sse(events: list[dict], done: bool = True) -> str:
    """Server-sent events as the API streams them, ending in ``data: [DONE]``."""
    import json

    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + ("data: [DONE]\n\n" if done else "")


def streamed_answer(text: str, prompt_tokens: int = 7) -> str:
    """A whole streamed answer: one chunk per word, a finish reason, then the usage."""
    words = text.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    return sse(
        [chat_chunk(p) for p in pieces]
        + [
            chat_chunk(finish="stop"),
            {
                **chat_chunk(),
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(pieces),
                    "total_tokens": prompt_tokens + len(pieces),
                },
            },
        ]
    )


def api_error(message: str, kind: str, code: str | None = None) -> dict:
    """The API's error body."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@contextlib.contextmanager
def openai_backend(session, base_url: str, model: str, **params) -> Iterator:
    """The openai backend bound to ``model`` at ``base_url`` and loaded, as a task gets it."""
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.openai_api import OpenAIParams

    ctx = SessionContext(session, OpenAIParams(base_url=base_url, **params), quiet=True)
    backend, _ = ctx.model(model, needs=["chat", "transcribe", "speak", "draw"])
    try:
        yield backend
    finally:
        ctx.close()
