"""openai backend: any OpenAI-compatible server (OpenAI, vLLM, TGI, Ollama, llama.cpp, ``transformers serve``).

``model=`` is the server's model name, taken as written. Chat streams tokens and maps the
generation options onto the API; a JSON schema goes out as ``response_format`` and the
answer is still validated by :func:`taskdeck.helpers.structured.chat_json` (a server that rejects
``response_format`` is asked again without it, and its answers parsed and validated).
Speech to text, text to speech and images use ``/audio/transcriptions``, ``/audio/speech``
and ``/images/generations`` (see :mod:`.media`). The API key comes from the environment
variable named by ``api_key_env`` and is never stored in the config, logs or results.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

from taskdeck import (
    CHAT,
    CHAT_JSON,
    DRAW,
    SCORE_LABELS,
    SPEAK,
    TRANSCRIBE,
    VISION_CHAT,
    Backend,
    BackendParams,
    CapabilityError,
    Completion,
    ConfigError,
    hookimpl,
    param,
)

from .faults import ServiceError, api_errors

OPENAI_URL = "https://api.openai.com/v1"


@dataclass
class OpenAIParams(BackendParams):
    name: str = "openai"
    base_url: Optional[str] = param(None, "default: $OPENAI_BASE_URL, else https://api.openai.com/v1")
    api_key_env: str = param("OPENAI_API_KEY", "the environment variable holding the key (never the key itself)")
    organization: Optional[str] = param(None, "OpenAI organization id (default: $OPENAI_ORG_ID)")
    timeout: float = param(120.0, "seconds to wait for an answer, per try", gt=0)
    max_retries: int = param(2, "retries, with backoff, after 429 / 5xx / timeouts / dropped connections", ge=0)
    strict_schema: bool = param(False, "response_format json_schema with strict=true (OpenAI-only schema rules)")
    logprobs: Optional[bool] = param(None, "label scoring from top_logprobs; None: only at api.openai.com")
    voice: str = param("alloy", "text to speech: the server's voice name")
    image_size: str = param("1024x1024", "text to image: WIDTHxHEIGHT as the server accepts it")
    n_ctx: int = param(4096, "tokens the served model's window holds (how long inputs are cut)", ge=16)


def is_loopback(url: str) -> bool:
    """True for a server on this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAIBackend(Backend):
    name = "openai"
    description = "any OpenAI-compatible API (OpenAI, vLLM, TGI, Ollama, llama.cpp, transformers serve)"
    Params = OpenAIParams
    formats = ("api",)
    all_capabilities = (CHAT, CHAT_JSON, SCORE_LABELS, VISION_CHAT, TRANSCRIBE, SPEAK, DRAW)
    extra = "openai"
    remote = True
    priority = 90

    @classmethod
    def missing_package(cls) -> Optional[str]:
        return None if importlib.util.find_spec("openai") else "openai"

    def __init__(self, model, params):
        super().__init__(model, params)
        self.base_url = (params.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")
        self.secret = ""
        self.schema_accepted = True  # until the server rejects response_format
        self.verbose_rejected = False  # the speech model has no verbose_json (segments)
        self._usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "latency_s": 0.0}
        self._first_token: list[float] = []

    def capabilities(self) -> set[str]:
        """All but label scoring, which needs a server that returns logprobs: OpenAI's does,
        others only say so with ``backend.logprobs=true`` (vLLM, llama.cpp server)."""
        logprobs = self.params.logprobs
        if logprobs is None:
            logprobs = urlsplit(self.base_url).hostname == urlsplit(OPENAI_URL).hostname
        return set(self.all_capabilities) - (set() if logprobs else {SCORE_LABELS})

    def load(self) -> None:
        """Build the client (no request is made); a missing key fails here, before any work."""
        import logging

        import openai

        for noisy in ("openai", "httpx2"):  # one INFO line per request otherwise
            logging.getLogger(noisy).setLevel(logging.WARNING)
        p = self.params
        self.secret = os.environ.get(p.api_key_env, "").strip()
        if not self.secret and not is_loopback(self.base_url):
            raise ConfigError(
                f"backend 'openai' needs an API key for {self.base_url}: set {p.api_key_env} in "
                "the environment (or backend.api_key_env=<VARIABLE> to read another one)"
            )
        self.client = openai.OpenAI(
            api_key=self.secret or "no-key",
            base_url=self.base_url,
            organization=p.organization,
            timeout=p.timeout,
            max_retries=p.max_retries,
        )
        self.loaded = True

    def unload(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None
        self.loaded = False

    def count(
        self, seconds: float, prompt_tokens: int = 0, completion_tokens: int = 0, first_token: Optional[float] = None
    ) -> None:
        """Add one request to what :meth:`usage` reports."""
        u = self._usage
        u["requests"] += 1
        u["prompt_tokens"] += prompt_tokens
        u["completion_tokens"] += completion_tokens
        u["latency_s"] += seconds
        if first_token is not None:
            self._first_token.append(first_token)

    def context_window(self) -> int:
        return int(self.params.n_ctx)

    def usage(self) -> dict[str, Any]:
        if not self._usage["requests"]:
            return {}
        out: dict[str, Any] = {
            **self._usage,
            "latency_s": round(self._usage["latency_s"], 3),
            "base_url": self.base_url,
        }
        if self._first_token:
            out["time_to_first_token_s"] = round(sum(self._first_token) / len(self._first_token), 3)
        return out

    # ---- chat ----
    def chat(
        self, messages, *, max_new_tokens=256, temperature=0.0, stream=None, json_schema=None, **options: Any
    ) -> Completion:
        if (options.get("num_beams") or 1) > 1:
            raise CapabilityError("num_beams > 1 needs backend=transformers (an API decodes one sequence)")
        request: dict[str, Any] = dict(
            model=self.model.ref,
            messages=list(messages),
            max_tokens=max_new_tokens,
            temperature=temperature,
            stream=True,
            stream_options={"include_usage": True},
        )
        for key in ("top_p", "seed", "stop"):
            if options.get(key) is not None:
                request[key] = options[key]
        # Not in OpenAI's API, but vLLM, llama.cpp and others read them from the body.
        extra = {k: options[k] for k in ("top_k", "repetition_penalty") if options.get(k) is not None}
        if extra:
            request["extra_body"] = extra
        if json_schema is not None and self.schema_accepted:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": json_schema, "strict": self.params.strict_schema},
            }
        start = time.perf_counter()
        chunks = self._open_stream(request)
        pieces: list[str] = []
        finish, usage, first, cut = "", None, None, ""
        import openai

        try:
            for chunk in chunks:
                usage = chunk.usage or usage
                for choice in chunk.choices[:1]:
                    piece = choice.delta.content if choice.delta else None
                    if piece:
                        if first is None:
                            first = time.perf_counter() - start
                        pieces.append(piece)
                        if stream:
                            stream(piece)
                    finish = choice.finish_reason or finish
        except openai.APIError as exc:  # the connection broke or timed out mid-stream
            cut = type(exc).__name__
        finally:
            chunks.close()
        seconds = time.perf_counter() - start
        if cut or not finish:
            finish = self._cut_off(pieces, cut or "the stream ended without a finish reason")
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else len(pieces)
        self.count(seconds, prompt_tokens, completion_tokens, first)
        return Completion(
            text="".join(pieces),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=seconds,
            finish_reason=finish,
        )

    def _open_stream(self, request: dict):
        """Start a streamed chat completion; without ``response_format`` if the server rejects it."""
        import openai

        with api_errors(self, "/chat/completions"):
            try:
                return self.client.chat.completions.create(**request)
            except (openai.BadRequestError, openai.UnprocessableEntityError):
                if "response_format" not in request:
                    raise
        # The server refuses JSON schemas: from now on ask plainly, then parse and validate.
        self.schema_accepted = False
        print(
            f"note: the server at {self.base_url} rejects response_format; answers are parsed and validated instead",
            file=sys.stderr,
        )
        with api_errors(self, "/chat/completions"):
            return self.client.chat.completions.create(**{k: v for k, v in request.items() if k != "response_format"})

    def _cut_off(self, pieces: list[str], why: str) -> str:
        """A stream that stopped early: keep what arrived, marked ``incomplete``."""
        if not pieces:
            raise ServiceError(
                f"the answer from {self.base_url} broke off before any text arrived ({why}): "
                "run again, or check the server"
            )
        print(
            f"\nwarning: the answer from {self.base_url} was cut off after {len(pieces)} pieces ({why}); "
            "the partial text is kept, marked finish_reason=incomplete",
            file=sys.stderr,
        )
        return "incomplete"

    def score_labels(self, messages, labels) -> dict[str, float]:
        from .labels import score_labels

        return score_labels(self, messages, labels)

    # ---- speech and images: see .media ----
    def transcribe(self, audio, **options: Any):
        from . import media

        return media.transcribe(self, audio, **options)

    def speak(self, text, **options: Any):
        from . import media

        return media.speak(self, text, **options)

    def draw(self, prompt, **options: Any):
        from . import media

        return media.draw(self, prompt, **options)


@hookimpl
def register_backends(register):
    register(OpenAIBackend)
