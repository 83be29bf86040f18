"""The per-request HTTP limits granian does not have, as one pure ASGI layer around the whole app.

granian (hyper) already bounds the request head, the URL and the time to send headers (run.py). Here,
on every route: the body's size (413, declared or sent) and the time to receive it (408); how long a
response may stall, the client taking nothing (the connection is cut, so a client that does not read
cannot pin a big answer in memory; a big download to a client that reads is never cut); the Accept header's length (431: negotiating a 900 kB one blocked the event loop for 1.4 s);
the URL's length (414, below hyper's own 64 KiB). Responses are handed to the server in 64 KiB
pieces: hyper then waits for the client between pieces (measured: ~4.6 MB queued, then blocked),
which is what lets the stall deadline bite."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings

PIECE = 65_536


@dataclass
class _Exchange:
    received: int = 0
    body_done: bool = False   # the whole body is in: later receives only wait for a disconnect
    started: bool = False     # the response has begun (ours or the app's)
    answered: bool = False    # we answered for the app: whatever it sends now is dropped


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class Limits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.s = app, settings

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        s = self.s
        url = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if url > s.max_url_bytes:
            return 414, f"the URL is over the limit of {s.max_url_bytes:,} bytes; POST the query instead"
        accept = _header(scope, b"accept")
        if accept is not None and len(accept) > s.max_accept_bytes:
            return 431, f"the Accept header is over the limit of {s.max_accept_bytes:,} bytes"
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > s.max_body_bytes:
            return 413, f"the request body is over the limit of {s.max_body_bytes:,} bytes"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        loop = asyncio.get_running_loop()
        body_deadline = loop.time() + self.s.body_timeout
        ex = _Exchange()

        async def answer(status: int, text: str) -> Message:
            if not ex.started:
                ex.started = True
                await _answer(send, status, text)
            ex.answered = True
            return {"type": "http.disconnect"}

        async def limited_receive() -> Message:
            if ex.answered:
                return {"type": "http.disconnect"}
            if ex.body_done:
                return await receive()
            try:
                async with asyncio.timeout(max(body_deadline - loop.time(), 0.001)):
                    message = await receive()
            except TimeoutError:
                return await answer(408, f"the request body did not arrive within {self.s.body_timeout:g} s")
            if message["type"] == "http.request":
                ex.body_done = not message.get("more_body", False)
                ex.received += len(message.get("body", b""))
                if ex.received > self.s.max_body_bytes:
                    return await answer(413, f"the request body is over the limit of {self.s.max_body_bytes:,} bytes")
            return message

        async def limited_send(message: Message) -> None:
            if ex.answered:
                return
            if message["type"] == "http.response.start":
                ex.started = True
                await send(message)
                return
            try:
                await _send_in_pieces(send, message, self.s.send_timeout)
            except TimeoutError:
                ex.answered = True   # drop the rest: an unfinished body makes the server close the connection

        await self.app(scope, limited_receive, limited_send)


async def _send_in_pieces(send: Send, message: Message, stall: float) -> None:
    """Each piece must be taken within `stall` seconds (TimeoutError otherwise): a client that reads
    nothing is cut off after that long, one that trickles must take 64 KiB per `stall` seconds."""
    body = message.get("body", b"")
    if message["type"] != "http.response.body" or len(body) <= PIECE:
        async with asyncio.timeout(stall):
            await send(message)
        return
    view = memoryview(body)
    for start in range(0, len(body), PIECE):
        last = start + PIECE >= len(body)
        async with asyncio.timeout(stall):
            await send({"type": "http.response.body", "body": bytes(view[start:start + PIECE]),
                        "more_body": message.get("more_body", False) if last else True})


async def _answer(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
