"""``task=serve``: a GGUF model (a pack, a path, a Hub GGUF) over an OpenAI-compatible API.

The task asks for the ``serve_openai`` capability (declared by the llama_cpp plugin: its
backend hands over llama-cpp-python's own server app, ``llama-cpp-python[server]``) and serves
that ASGI app with uvicorn on a socket bound here (127.0.0.1 unless a key is required): chat
and text completions streamed, the GGUF's chat template, JSON schemas enforced by a grammar,
log probabilities with ``logprobs=true``, greedy answers equal to the local llama_cpp
backend's. The model is loaded with the backend's options (``backend.threads``,
``backend.n_batch`` with ``backend=llama_cpp``, ...). Any job, launcher or machine then
reaches it with ``backend=openai backend.base_url=http://127.0.0.1:PORT/v1``.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import ConfigError, Report, Section, Task, hookimpl, param
from taskdeck.helpers.signals import stoppable

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: The capability served: a model's OpenAI-compatible server app (the llama_cpp plugin declares it).
SERVE_OPENAI = "serve_openai"
#: Seconds requests in flight get to finish once SIGINT or SIGTERM asks the server to stop.
GRACE_S = 3


class ServeTask(Task):
    name = "serve"
    description = "serve a GGUF model over an OpenAI-compatible API (llama.cpp server), JSON schemas enforced"
    outputs = ("text", "json")

    @dataclass
    class Params:
        model: str = param(DEFAULT_MODEL, "model pack alias, GGUF path or Hub GGUF to serve")
        port: int = param(8000, "port to serve on (0: a free one, printed)", ge=0, le=65535)
        host: str = param("127.0.0.1", "address to bind; anything but loopback needs api_key_env=")
        api_key_env: Optional[str] = param(None, "environment variable holding the key clients must send")
        name: Optional[str] = param(None, "the model name clients send (default: model=)")
        n_ctx: int = param(8192, "context window in tokens, shared by the requests (minutes asks for 8192)", ge=256)
        logprobs: bool = param(
            False, "return log-probabilities (label scoring); keeps logits for every token: n_ctx x vocabulary floats"
        )
        queue: int = param(32, "requests waiting for the model at most; more are refused (503, Retry-After)", ge=0)
        queue_timeout_s: float = param(300.0, "a request that waited this long for the model is refused (503)", gt=0)
        verbose: bool = param(False, "log every request")

    needs = (SERVE_OPENAI,)  # the file is found and checked here; the server loads the weights itself

    def run(self, params: Any, ctx: Any) -> Report:
        with stoppable():  # SIGINT and SIGTERM stop it, whatever the parent process ignores
            server = start(params, ctx)
            started = time.time()
            try:
                server.run()
            finally:
                server.close()
        rows = [{"url": server.url, "model": server.name, **server.counts, "served_s": round(time.time() - started, 1)}]
        return Report("taskdeck serve", [Section("served", rows)])


class Server:
    """A configured llama-cpp-python server on a bound socket; ``run()`` blocks until Ctrl-C."""

    def __init__(self, backend: Any, app: Any, sock: socket.socket, url: str, params: Any, stream: Any, key: Any):
        self.backend, self.sock, self.url, self.stream = backend, sock, url, stream
        self.name = params.name or params.model
        # one generation at a time on the model (in arrival order), the queue bounded in count and time
        from taskdeck.helpers.admission import Admission  # asyncio: not for listings

        self.app = Admission(app, queue=params.queue, wait_s=params.queue_timeout_s, admits=_completion(key))
        import uvicorn

        config = uvicorn.Config(
            self.app,
            log_level="info" if params.verbose else "warning",
            access_log=params.verbose,
            lifespan="off",
            timeout_graceful_shutdown=GRACE_S,
        )
        self.uvicorn = uvicorn.Server(config)
        on_signal = self.uvicorn.handle_exit  # uvicorn's handler while it serves: answers end too

        def handle_exit(sig: int, frame: Any) -> None:
            self.backend.end_generations()
            on_signal(sig, frame)

        self.uvicorn.handle_exit = handle_exit  # type: ignore[method-assign]

    @property
    def counts(self) -> dict[str, int]:
        """Completion requests taken, refused (queue full, waited too long), left while waiting."""
        return dict(self.app.counts)

    def run(self) -> None:
        print(
            f"taskdeck serve: {self.name} on {self.url} (Ctrl-C stops it)\n"
            f"  use it with: backend=openai backend.base_url={self.url} model={self.name}",
            file=self.stream,
            flush=True,
        )
        # A signal before uvicorn has put up its own handlers (or after it has taken them
        # down) asks the same: stop serving, requests in flight get GRACE_S to finish.
        with stoppable(self.stop):
            self.uvicorn.run(sockets=[self.sock])

    def stop(self, signum: int = signal.SIGINT) -> None:
        """Stop serving: answers being generated end at their next token, the loop exits."""
        self.backend.end_generations()
        self.uvicorn.should_exit = True

    def close(self) -> None:
        self.sock.close()  # the model is freed with the backend, when the run ends


def start(params: Any, ctx: Any) -> Server:
    """Check the options, bind the port and get the model's server app."""
    key = _api_key(params)
    backend, _ = ctx.model(params.model, needs=ServeTask.needs, options={"n_ctx": params.n_ctx})
    name = params.name or params.model
    sock = _bind(params.host, params.port)
    host, port = sock.getsockname()[:2]
    url = f"http://{_url_host(host)}:{port}/v1"
    try:
        with ctx.watch.time("load"):
            app = backend.openai_app(name=name, host=params.host, port=port, api_key=key, logprobs=params.logprobs)
        return Server(backend, app, sock, url, params, ctx.stream, key)
    except BaseException:
        sock.close()
        raise


def _completion(key: Optional[str]) -> Any:
    """Whether a request is a chat or text completion (what runs on the model) with the key
    if one is required (one without is refused by the app at once, never queued)."""
    authorization = f"Bearer {key}".encode() if key else None

    def admits(scope: dict) -> bool:
        if scope["method"] != "POST" or not scope["path"].endswith("completions"):
            return False
        return authorization is None or dict(scope["headers"]).get(b"authorization") == authorization

    return admits


def _api_key(params: Any) -> Optional[str]:
    if params.api_key_env:
        key = os.environ.get(params.api_key_env, "").strip()
        if not key:
            raise ConfigError(f"api_key_env={params.api_key_env}: set that variable to the key clients must send")
        return key
    if params.host not in LOOPBACK:
        raise ConfigError(
            f"host={params.host} makes the model reachable from other machines: add api_key_env=<VARIABLE> "
            "holding a key (export TASKDECK_SERVE_KEY=...; api_key_env=TASKDECK_SERVE_KEY), which clients "
            "send with backend.api_key_env=TASKDECK_SERVE_KEY"
        )
    return None


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), so the URL is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1" if host == "localhost" else host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot serve on {host}:{port} ({exc.strerror or exc}); choose another port=") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@hookimpl
def register_tasks(register: Any) -> None:
    register(ServeTask)
