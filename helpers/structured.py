"""Structured (JSON) answers from any chat backend.

With a backend that offers ``chat_json`` (llama.cpp), the JSON schema constrains decoding, so
the answer parses by construction. Otherwise the answer is parsed and validated against the
schema, and the model is asked again with the validation error, a bounded number of times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Optional

from taskdeck.backends import CHAT_JSON, Backend, Message
from taskdeck.errors import TaskdeckError


class StructuredOutputError(TaskdeckError):
    """The model's answer did not match the schema after the retries; ``raw`` holds it."""

    def __init__(self, message: str, raw: str):
        super().__init__(message)
        self.raw = raw


def validate(data: Any, schema: dict) -> Optional[str]:
    """None when ``data`` matches ``schema``, else the first error as one line."""
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if not errors:
        return None
    err = errors[0]
    where = "/".join(str(p) for p in err.path) or "(root)"
    return f"{where}: {err.message}"


def parse_json(text: str) -> Any:
    """The first JSON object or array in ``text`` (tolerates code fences and chatter)."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                return decoder.raw_decode(text[i:])[0]
            except ValueError:
                continue
    raise ValueError("no JSON object in the answer")


def chat_json(
    backend: Backend,
    messages: Sequence[Message],
    schema: dict,
    *,
    retries: int = 2,
    max_new_tokens: int = 512,
    retry_options: Optional[dict] = None,
    **options: Any,
) -> Any:
    """Ask ``backend`` for JSON matching ``schema``; returns the parsed, validated value.
    ``retry_options`` are added to ``options`` for the tries after the first (e.g. a
    repetition penalty once greedy decoding has looped)."""
    constrained = CHAT_JSON in backend.capabilities()
    convo = list(messages)
    raw = ""
    problem = ""
    for attempt in range(retries + 1):
        extra = {**options, **(retry_options or {})} if attempt else options
        gen = backend.chat(convo, max_new_tokens=max_new_tokens, json_schema=schema if constrained else None, **extra)
        raw = gen.text
        try:
            data = parse_json(raw)
        except ValueError as exc:
            problem = str(exc)
        else:
            problem = validate(data, schema) or ""
            if not problem:
                return data
        if gen.finish_reason == "length" or (constrained and not getattr(backend, "remote", False)):
            # The answer ran out of tokens (a loop), or local decoding already follows the
            # schema: showing it again would only prime the same answer and overflow the
            # window. (A server may ignore response_format: it is shown what was wrong.)
            convo = list(messages)
        else:
            convo = [
                *messages,
                {"role": "assistant", "content": raw},
                {
                    "role": "user",
                    "content": f"That answer is not valid ({problem}). Reply with only a "
                    f"JSON value matching this schema: {json.dumps(schema)}",
                },
            ]
    raise StructuredOutputError(
        f"the model's answer did not match the schema after {retries + 1} tries ({problem})", raw
    )
