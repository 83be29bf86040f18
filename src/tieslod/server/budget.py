"""A per-client query budget, as Wikidata's query service has: worker seconds per client per minute,
and queries per client at once. Over either, 429 with Retry-After.

A client's queries past its share wait in that client's own lane (never in the shared worker queue),
so a client sending runaway queries holds at most `concurrent` workers and the others keep serving
everyone else. Seconds are charged as each query ends (a runaway killed at its deadline costs the
deadline), from a token bucket refilled at `seconds` per minute. Answers from the cache cost nothing.
A client is its remote address; behind a proxy, X-Forwarded-For may be trusted instead (off by
default: any client can write that header). Budgets are per HTTP process."""
from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from cachetools import LRUCache
from starlette.requests import Request
from starlette.types import Scope

from ..errors import TooManyRequests

MINUTE = 60.0


@dataclass
class _Account:
    balance: float
    updated: float
    lane: asyncio.Semaphore | None


class ClientBudget:
    def __init__(self, seconds: float, concurrent: int, queue_wait: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.concurrent, self.queue_wait, self.clock = seconds, concurrent, queue_wait, clock
        self._accounts: LRUCache[str, _Account] = LRUCache(maxsize=100_000)

    def _account(self, client: str) -> _Account:
        now = self.clock()
        account = self._accounts.get(client)
        if account is None:
            lane = asyncio.Semaphore(self.concurrent) if self.concurrent else None
            account = self._accounts[client] = _Account(self.seconds, now, lane)
        elif self.seconds:
            account.balance = min(self.seconds, account.balance + (now - account.updated) * self.seconds / MINUTE)
            account.updated = now
        return account

    def _retry_after(self, account: _Account) -> int:
        return max(1, math.ceil(-account.balance * MINUTE / self.seconds)) if self.seconds else 1

    @contextlib.asynccontextmanager
    async def slot(self, client: str) -> AsyncIterator[None]:
        """Wait for one of the client's slots, run the body, charge its seconds; or TooManyRequests."""
        account = self._account(client)
        if self.seconds and account.balance <= 0:
            raise TooManyRequests(f"this client used its {self.seconds:g} query seconds of the last minute; "
                                  "try again later", self._retry_after(account))
        if account.lane is not None:
            try:
                await asyncio.wait_for(account.lane.acquire(), self.queue_wait)
            except TimeoutError:
                raise TooManyRequests(f"this client already has {self.concurrent} queries running; "
                                      "send fewer at once", math.ceil(self.queue_wait)) from None
        start = self.clock()
        try:
            yield
        finally:
            if account.lane is not None:
                account.lane.release()
            if self.seconds:
                self._account(client).balance -= self.clock() - start


def client_of(request: Request, trust_forwarded_for: bool) -> str:
    """The client's address; with a trusted proxy, the one it appended to X-Forwarded-For."""
    return client_of_scope(request.scope, trust_forwarded_for)


def client_of_scope(scope: Scope, trust_forwarded_for: bool) -> str:
    """client_of on an ASGI scope (the lean /sparql route has no Request)."""
    if trust_forwarded_for:
        forwarded = next((v for k, v in scope["headers"] if k == b"x-forwarded-for"), b"").decode("latin-1")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    client = scope.get("client")
    return client[0] if client else "-"
