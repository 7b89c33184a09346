"""What goes wrong talking to an OpenAI-compatible server, each as one line naming the fix.

The client has already retried 429s, 5xx answers, timeouts and dropped connections with
backoff (``backend.max_retries``) before any of these reach the user. Messages never carry
the API key: text quoted from the server is scrubbed of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from taskdeck import CapabilityError, ConfigError, InputError, ModelNotFoundError, TaskdeckError

if TYPE_CHECKING:
    from . import OpenAIBackend


class ServiceError(TaskdeckError):
    """The server failed, refused the connection, or answered too slowly."""


def server_message(exc: Exception, secret: str = "", limit: int = 200) -> str:
    """The server's own explanation of an error, on one line, without the key."""
    body = getattr(exc, "body", None)
    text = ""
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = str(inner.get("message") or "") if isinstance(inner, dict) else str(inner)
        text = text or str(body.get("detail") or "")
    text = " ".join(str(text or getattr(exc, "message", "") or exc).split())
    if secret:
        text = text.replace(secret, "***")
    return text[:limit] + ("..." if len(text) > limit else "")


def _refused(exc: Exception) -> bool:
    cause = exc.__cause__ or exc.__context__
    return "refused" in str(cause).lower() or "errno 111" in str(cause).lower()


@contextlib.contextmanager
def api_errors(backend: OpenAIBackend, endpoint: str) -> Iterator[None]:
    """Turn the openai client's exceptions raised inside the block into one-line errors.

    ``endpoint`` is the API path called (``/chat/completions``), named when a server lacks it.
    """
    import openai

    url, p = backend.base_url, backend.params
    tries = f"after {p.max_retries} retries" if p.max_retries else "(retries are off: backend.max_retries=0)"
    try:
        yield
    except openai.AuthenticationError as exc:
        raise ConfigError(
            f"the server at {url} rejected the API key (401) read from ${p.api_key_env}: "
            f"set a valid key ({server_message(exc, backend.secret)})"
        ) from None
    except openai.PermissionDeniedError as exc:
        raise ConfigError(
            f"the server at {url} refused access (403) with the key from ${p.api_key_env}: "
            f"{server_message(exc, backend.secret)}"
        ) from None
    except openai.NotFoundError as exc:
        raise model_not_found(backend, endpoint, server_message(exc, backend.secret)) from None
    except openai.RateLimitError as exc:
        raise ServiceError(
            f"the server at {url} is limiting requests (429) and still was {tries}: wait and "
            f"run again, or raise backend.max_retries ({server_message(exc, backend.secret)})"
        ) from None
    except openai.InternalServerError as exc:
        raise ServiceError(
            f"the server at {url} failed with {exc.status_code} {tries}: {server_message(exc, backend.secret)}"
        ) from None
    except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
        raise InputError(
            f"the server at {url} rejected the request to {endpoint} ({exc.status_code}): "
            f"{server_message(exc, backend.secret)}"
        ) from None
    except openai.APIStatusError as exc:
        raise ServiceError(
            f"the server at {url} answered {exc.status_code} to {endpoint}: {server_message(exc, backend.secret)}"
        ) from None
    except openai.APITimeoutError:
        raise ServiceError(
            f"no answer from {url} within backend.timeout={p.timeout:g} s {tries}: raise "
            "backend.timeout, or check the server"
        ) from None
    except openai.APIConnectionError as exc:
        why = "connection refused" if _refused(exc) else server_message(exc, backend.secret)
        raise ServiceError(
            f"cannot connect to {url} ({why}): start the server, or point backend.base_url (or OPENAI_BASE_URL) at one"
        ) from None


def model_not_found(backend: OpenAIBackend, endpoint: str, detail: str) -> TaskdeckError:
    """A 404: the model is unknown (list what ``/v1/models`` offers), or the endpoint is missing."""
    import openai

    url, model = backend.base_url, backend.model.ref
    try:
        offered = sorted(m.id for m in backend.client.with_options(max_retries=0).models.list())
    except openai.OpenAIError:
        return ModelNotFoundError(
            f"the server at {url} answered 404 for model '{model}' at {endpoint} "
            f"({detail}), and its /models list could not be read"
        )
    if model in offered:
        return CapabilityError(
            f"the server at {url} serves '{model}' but has no {endpoint} endpoint (404): "
            "use a server or backend that offers it"
        )
    if not offered:
        return ModelNotFoundError(
            f"the server at {url} answered 404 to {endpoint} for model '{model}' "
            f"({detail}); its /models list is empty, so name the model it serves"
        )
    return ModelNotFoundError(f"model '{model}' is not served at {url}; it offers: {', '.join(offered)}")
