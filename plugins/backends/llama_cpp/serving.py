"""The ``serve_openai`` capability: the GGUF model behind llama-cpp-python's own
OpenAI-compatible server (``llama-cpp-python[server]``), as an ASGI app a task serves.

Chat and text completions streamed, the GGUF's chat template, JSON schemas enforced by a
grammar, log probabilities with ``logprobs=True``. Requests are read as OpenAI's API means
them (:class:`OpenAIRequests`), so greedy answers equal the local backend's. The server loads
the weights itself, with the backend's options (threads, ``n_ctx``, ``n_batch``, ...).
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from taskdeck import MissingDependencyError

SERVE_OPENAI = "serve_openai"
#: What ``llama_cpp.server`` imports beyond llama-cpp-python itself.
SERVER_PACKAGES = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")


class OpenAIServing:
    """The protocol of ``serve_openai``: what a backend offering it implements."""

    def openai_app(
        self, *, name: str, host: str, port: int, api_key: Optional[str] = None, logprobs: bool = False
    ) -> Any:
        """An ASGI app serving the model as ``name`` over OpenAI's API (``/v1/chat/completions``,
        ``/v1/completions``, ``/v1/models``); ``api_key``: the key clients must send;
        ``logprobs``: keep the logits every request may ask for. ``unload()`` frees it."""
        raise NotImplementedError

    def end_generations(self) -> None:
        """The server is stopping: every generation in flight ends at its next token (its
        request fails), so the server's graceful shutdown need not wait for long answers."""
        raise NotImplementedError


def missing_server_package() -> Optional[str]:
    """The pip package task=serve needs and cannot find (checked without importing)."""
    missing = [m for m in SERVER_PACKAGES if importlib.util.find_spec(m) is None]
    return "llama-cpp-python[server]" if missing else None


def openai_app(backend: Any, name: str, host: str, port: int, api_key: Optional[str], logprobs: bool) -> Any:
    """llama-cpp-python's server app for ``backend``'s GGUF, loaded with its options."""
    missing = missing_server_package()
    if missing:
        raise MissingDependencyError(missing, "task=serve", "serve")
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    from taskdeck.helpers.cpu import available_cpus

    options = backend.params
    threads = options.threads or available_cpus()
    model = ModelSettings(
        model=str(backend.model.path()),
        model_alias=name,
        n_ctx=options.n_ctx,
        n_batch=options.n_batch,
        n_ubatch=min(options.n_batch, 512),
        n_threads=threads,
        n_threads_batch=threads,
        n_gpu_layers=options.n_gpu_layers if options.device != "cpu" else 0,
        logits_all=logprobs,
        verbose=options.verbose,
    )
    settings = ServerSettings(host=host, port=port, api_key=api_key, interrupt_requests=False)
    app = create_app(server_settings=settings, model_settings=[model])
    global _generations
    from llama_cpp.server import app as server_app

    _generations = Generations(server_app._llama_proxy())
    return OpenAIRequests(app)


class Stopping(BaseException):
    """Raised in a generation in flight when the server stops and its model is freed (a
    BaseException, so the server's route handler does not turn it into a 500 with a traceback)."""


class Generations:
    """The generations running on the server's model, and a way to end them at their next
    token: requests run in worker threads that outlive the server's graceful shutdown, and
    the model must not be freed under them (llama.cpp would crash)."""

    def __init__(self, llama: Any):
        self.stopping = threading.Event()
        self.running = 0
        self.changed = threading.Condition()
        evaluate, complete = llama.eval, llama.create_completion

        def eval(tokens: Any) -> Any:
            if self.stopping.is_set():
                raise Stopping("the server is stopping")
            return evaluate(tokens)

        def create_completion(*args: Any, **kwargs: Any) -> Any:
            with self.counted():
                out = complete(*args, **kwargs)
            return self.stream(out) if isinstance(out, Iterator) else out

        llama.eval, llama.create_completion = eval, create_completion  # chat completions call these too

    @contextmanager
    def counted(self) -> Iterator[None]:
        with self.changed:
            self.running += 1
        try:
            yield
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()

    def stream(self, chunks: Iterator[Any]) -> Iterator[Any]:
        """A streamed completion, counted while each chunk is made (not while it waits to be asked)."""
        while True:
            with self.counted():
                chunk = next(chunks, _END)
            if chunk is _END:
                return
            yield chunk

    def stop(self, wait_s: float = 30.0) -> bool:
        """End every generation at its next token; True once none is running (within ``wait_s``)."""
        self.stopping.set()
        with self.changed:
            return self.changed.wait_for(lambda: self.running == 0, wait_s)


_END = object()
_generations: Optional[Generations] = None


def end_generations() -> None:
    """Every generation in flight ends at its next token (without waiting for it)."""
    if _generations is not None:
        _generations.stopping.set()


def free() -> None:
    """End the generations in flight, then free the model the server app holds
    (llama-cpp-python keeps it in a module global)."""
    global _generations
    from llama_cpp.server import app as server_app

    if _generations is not None:
        _generations.stop()
        _generations = None
    proxy = getattr(server_app, "_llama_proxy", None)
    if proxy is not None:
        proxy.free()
        server_app._llama_proxy = None


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
        from taskdeck.helpers.admission import read_body, refuse, replay

        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("completions"):
            await self.app(scope, receive, send)
            return
        body, left = await read_body(receive)
        if left:  # the client went away
            await self.app(scope, replay([{"type": "http.disconnect"}], receive), send)
            return
        body = openai_request(body)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        started = False

        async def sending(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(
                {**scope, "headers": headers}, replay([{"type": "http.request", "body": body}], receive), sending
            )
        except Stopping:  # the server is stopping: a clear refusal, or the stream simply ends
            if not started:
                await refuse(send, 503, "the server is stopping; send the request again once it is back")


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
