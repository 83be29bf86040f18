"""Fairness under load (issue 13): 10,000 requests at concurrency 32, 2 % of them runaway queries from
one client, against a `tieslod serve` with its per-client budget on (the defaults).

Each client is its own loopback address, as distinct machines would be. 32 connection slots each take
the next request of one shuffled list: an ordinary query (distinct, mixing the four of
benchmarks/serve.py) is sent from the slot's own client (127.0.0.10-41), a runaway from the one
runaway client (127.0.0.2), so that client has as many queries in flight as the draw gives it. The
figures: the ordinary clients' statuses and latencies, and what the runaway client got."""
from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

RUNAWAY_CLIENT = "127.0.0.2"
SLOTS = 32
EVERY = 49   # ordinary requests per runaway: 2 % of the mix


@dataclass
class Outcome:
    ordinary: Counter = field(default_factory=Counter)
    runaway: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)   # ordinary ones, seconds
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def summary(self) -> dict:
        return {"ordinary": dict(self.ordinary), "runaway": dict(self.runaway), "errors": len(self.errors),
                "p50_ms": self.p(0.50) * 1000, "p99_ms": self.p(0.99) * 1000, "max_ms": max(self.latencies) * 1000,
                "mean_ms": statistics.fmean(self.latencies) * 1000, "seconds": self.seconds}


async def run(url: str, ordinary: list[tuple[str, str]], runaways: list[str], seed: int = 5) -> Outcome:
    """ordinary: (query, Accept) pairs; runaways: query texts; each sent once, in a shuffled order."""
    out = Outcome()
    todo: list[tuple[bool, str, str]] = [(False, q, a) for q, a in ordinary] + [(True, q, "") for q in runaways]
    random.Random(seed).shuffle(todo)
    todo.reverse()

    def client(address: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=120)

    async def slot(i: int) -> None:
        async with client(f"127.0.0.{10 + i}") as mine, client(RUNAWAY_CLIENT) as runaway:
            while todo:
                is_runaway, query, accept = todo.pop()
                began = time.perf_counter()
                try:
                    response = await (runaway if is_runaway else mine).get(
                        url, params={"query": query}, headers={"Accept": accept} if accept else {})
                except httpx.HTTPError as exc:
                    out.errors.append(f"{'runaway' if is_runaway else 'ordinary'}: {type(exc).__name__}")
                    continue
                if is_runaway:
                    out.runaway[response.status_code] += 1
                else:
                    out.latencies.append(time.perf_counter() - began)
                    out.ordinary[response.status_code] += 1

    start = time.monotonic()
    await asyncio.gather(*(slot(i) for i in range(SLOTS)))
    out.seconds = time.monotonic() - start
    return out


def load(url: str, ordinary: list[tuple[str, str]], runaways: list[str]) -> Outcome:
    return asyncio.run(run(url, ordinary, runaways))
