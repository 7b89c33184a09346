"""A bound on what an ASGI app takes at once: requests run one at a time (in arrival order),
at most ``queue`` wait, none waits longer than ``wait_s``.

A request beyond the queue, or one that waited too long, is refused with 503 and
``Retry-After`` (an OpenAI-style error body, which OpenAI's clients retry); a client that
leaves while its request waits leaves the queue, so no work is done for nobody.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Optional

RETRY_AFTER_S = 5


class Admission:
    """ASGI middleware in front of ``app`` for the requests ``admits(scope)`` picks (the others
    pass straight through)."""

    def __init__(self, app: Any, *, queue: int, wait_s: float, admits: Callable[[dict], bool]):
        self.app, self.queue, self.wait_s, self.admits = app, queue, wait_s, admits
        self.waiting = 0
        self.counts = {"requests": 0, "refused_full": 0, "refused_waited": 0, "left_waiting": 0}
        self._gate: Optional[asyncio.Semaphore] = None  # made in the server's event loop

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.admits(scope):
            await self.app(scope, receive, send)
            return
        self.counts["requests"] += 1
        if self._gate is None:
            self._gate = asyncio.Semaphore(1)
        body, left = await read_body(receive)
        if left:
            self.counts["left_waiting"] += 1
            return
        if self._gate.locked() and self.waiting >= self.queue:
            self.counts["refused_full"] += 1
            message = f"the server is busy: {self.waiting} requests wait their turn (queue={self.queue})"
            await refuse(send, 503, message + "; retry in a few seconds")
            return
        self.waiting += 1
        try:
            turn = await self._wait_turn(receive)
        finally:
            self.waiting -= 1
        if turn == "left":
            self.counts["left_waiting"] += 1
            return
        if turn == "waited":
            self.counts["refused_waited"] += 1
            await refuse(send, 503, f"the request waited {self.wait_s:g} s for its turn; retry later")
            return
        try:
            await self.app(scope, replay([{"type": "http.request", "body": body}], receive), send)
        finally:
            self._gate.release()

    async def _wait_turn(self, receive: Any) -> str:
        """``"turn"`` (the gate is held), ``"waited"`` (``wait_s`` passed) or ``"left"`` (the client went away)."""
        assert self._gate is not None
        turn = asyncio.ensure_future(self._gate.acquire())
        left = asyncio.ensure_future(receive())  # with the body read, only a disconnect comes
        try:
            done, _ = await asyncio.wait({turn, left}, timeout=self.wait_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            left.cancel()
        if turn in done:
            return "turn"
        turn.cancel()
        try:  # it may have been granted while it was being cancelled
            await turn
            self._gate.release()
        except asyncio.CancelledError:
            pass
        return "left" if left in done else "waited"


async def read_body(receive: Any) -> tuple[bytes, bool]:
    """The request's body, and whether the client went away before sending all of it."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"", True
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks), False


def replay(messages: list[dict], receive: Any) -> Callable[[], Awaitable[dict]]:
    """A ``receive`` that gives ``messages`` first, then the connection's own (a disconnect)."""
    pending = list(messages)

    async def replayed() -> dict:
        return pending.pop(0) if pending else await receive()

    return replayed


async def refuse(send: Any, status: int, message: str, retry_after_s: int = RETRY_AFTER_S) -> None:
    """An OpenAI-style error response, with ``Retry-After``."""
    body = json.dumps({"error": {"message": message, "type": "server_error", "code": status}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after_s).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
