"""``task=serve``: a GGUF model (a pack, a path, a Hub GGUF) over an OpenAI-compatible API.

llama-cpp-python's own server (``llama-cpp-python[server]``) on 127.0.0.1: chat and text
completions streamed, the GGUF's chat template, JSON schemas enforced by a grammar, log
probabilities with ``logprobs=true``. Requests are read as OpenAI's API means them
(:class:`OpenAIRequests`): a ``json_schema`` response format is enforced and no repetition
penalty is added, so greedy answers equal the local llama_cpp backend's. The model is loaded with the llama_cpp
backend's options (``backend.threads``, ``backend.n_batch``, ...). Any job, launcher or machine
then reaches it with ``backend=openai backend.base_url=http://127.0.0.1:PORT/v1``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import (
    INSPECT,
    ConfigError,
    MissingDependencyError,
    Report,
    Section,
    Task,
    hookimpl,
    param,
)

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: What ``llama_cpp.server`` imports beyond llama-cpp-python itself.
SERVER_PACKAGES = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")


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
        verbose: bool = param(False, "log every request")

    needs = (INSPECT,)  # the file is found and checked here; the server loads the weights itself

    def run(self, params: Any, ctx: Any) -> Report:
        server = start(params, ctx)
        started = time.time()
        try:
            server.run()
        finally:
            server.close()
        rows = [
            {
                "url": server.url,
                "model": server.name,
                "requests": server.requests,
                "served_s": round(time.time() - started, 1),
            }
        ]
        return Report("taskdeck serve", [Section("served", rows)])


class Server:
    """A configured llama-cpp-python server on a bound socket; ``run()`` blocks until Ctrl-C."""

    def __init__(self, app: Any, sock: socket.socket, url: str, name: str, verbose: bool, stream: Any):
        self.app, self.sock, self.url, self.name, self.stream = app, sock, url, name, stream
        self.counter = RequestCounter(app)
        import uvicorn

        config = uvicorn.Config(
            self.counter, log_level="info" if verbose else "warning", access_log=verbose, lifespan="off"
        )
        self.uvicorn = uvicorn.Server(config)

    @property
    def requests(self) -> int:
        return self.counter.count

    def run(self) -> None:
        print(
            f"taskdeck serve: {self.name} on {self.url} (Ctrl-C stops it)\n"
            f"  use it with: backend=openai backend.base_url={self.url} model={self.name}",
            file=self.stream,
            flush=True,
        )
        try:
            self.uvicorn.run(sockets=[self.sock])
        except KeyboardInterrupt:  # uvicorn shuts down cleanly, then raises the Ctrl-C it caught
            pass

    def close(self) -> None:
        from llama_cpp.server import app as server_app

        proxy = server_app._llama_proxy
        if proxy is not None:
            proxy.free()
            server_app._llama_proxy = None
        self.sock.close()


def start(params: Any, ctx: Any) -> Server:
    """Check the options, load the model into llama-cpp-python's app and bind the port."""
    missing = [m for m in ("llama_cpp", *SERVER_PACKAGES) if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            "llama-cpp-python[server]" if missing[0] != "llama_cpp" else "llama-cpp-python", "task=serve", "serve"
        )
    key = _api_key(params)
    # Resolved and checked as the llama_cpp backend would load it (its options apply); loads nothing.
    found = ctx.model(params.model, needs=(INSPECT,), backend="llama_cpp", options={"n_ctx": params.n_ctx})
    options = found.backend.params
    path = found.backend.model.path()
    name = params.name or params.model
    sock = _bind(params.host, params.port)
    host, port = sock.getsockname()[:2]
    url = f"http://{_url_host(host)}:{port}/v1"

    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    from taskdeck.helpers.cpu import available_cpus

    threads = options.threads or available_cpus()
    model = ModelSettings(
        model=str(path),
        model_alias=name,
        n_ctx=options.n_ctx,
        n_batch=options.n_batch,
        n_ubatch=min(options.n_batch, 512),
        n_threads=threads,
        n_threads_batch=threads,
        n_gpu_layers=options.n_gpu_layers if options.device != "cpu" else 0,
        logits_all=params.logprobs,
        verbose=options.verbose,
    )
    settings = ServerSettings(host=params.host, port=port, api_key=key, interrupt_requests=False)
    with ctx.watch.time("load"):
        app = create_app(server_settings=settings, model_settings=[model])
    return Server(OpenAIRequests(app), sock, url, name, params.verbose, ctx.stream)


class OpenAIRequests:
    """ASGI middleware making llama-cpp-python's server read requests as OpenAI's API means them.

    - ``response_format={"type": "json_schema", "json_schema": {"schema": S}}`` becomes
      ``{"type": "json_object", "schema": S}``, the form it enforces (it refuses the other);
    - no repetition penalty unless asked (its server adds 1.1; OpenAI's API and
      llama-cpp-python's own ``create_chat_completion`` have none), so greedy answers are the
      local backend's."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("completions"):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = openai_request(b"".join(chunks))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.app({**scope, "headers": headers}, _replay([{"type": "http.request", "body": body}], receive), send)


def openai_request(body: bytes) -> bytes:
    """A completion request's body as llama-cpp-python's server should read it (see :class:`OpenAIRequests`)."""
    try:
        request = json.loads(body)
    except ValueError:
        return body
    if not isinstance(request, dict):
        return body
    fmt = request.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        request["response_format"] = {"type": "json_object", **({"schema": schema} if schema else {})}
    request.setdefault("repeat_penalty", 1.0)
    return json.dumps(request).encode()


def _replay(messages: list[dict], receive: Any) -> Any:
    """A ``receive`` that gives ``messages`` first, then the connection's own (a disconnect)."""
    pending = list(messages)

    async def replayed() -> dict:
        return pending.pop(0) if pending else await receive()

    return replayed


class RequestCounter:
    """ASGI middleware counting chat and text completion requests."""

    def __init__(self, app: Any):
        self.app, self.count = app, 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("completions"):
            self.count += 1
        await self.app(scope, receive, send)


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
