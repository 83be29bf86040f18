"""The per-client query budget on a real server: one client (127.0.0.2) sends runaway queries, another
(127.0.0.3) ordinary ones; every ordinary query is answered, the runaway client gets 429s."""
from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from tieslod.errors import TooManyRequests
from tieslod.server.budget import ClientBudget

TIMEOUT = 2.0
SECONDS = 8.0   # the runaway client's budget per minute: four runaways
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def server(tieslod_serve, real_settings):
    return tieslod_serve("--out", str(real_settings.out_dir), "--workers", "2", "--timeout", str(TIMEOUT),
                         "--cache-mb", "0", "--client-query-seconds", str(SECONDS))


def client_from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def test_runaways_from_one_client_do_not_starve_another(server):
    stop = threading.Event()
    runaway_statuses: list[tuple[int, str | None]] = []

    def runaways() -> None:
        with client_from("127.0.0.2") as client:
            while not stop.is_set():
                response = client.get(server.sparql, params={"query": RUNAWAY})
                runaway_statuses.append((response.status_code, response.headers.get("retry-after")))

    threads = [threading.Thread(target=runaways) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)   # the runaways hold their worker first
    ordinary = []
    try:
        with client_from("127.0.0.3") as client:
            start = time.monotonic()
            offset = 0
            while time.monotonic() - start < 4 * TIMEOUT + 2:   # past the point where the budget is spent
                query = f"SELECT ?s WHERE {{ ?s ?p ?o }} LIMIT 1 OFFSET {offset}"   # never repeated: no cache
                began = time.monotonic()
                response = client.get(server.sparql, params={"query": query})
                ordinary.append((response.status_code, time.monotonic() - began))
                offset += 1
                time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert len(ordinary) >= 10
    assert [status for status, _ in ordinary if status != 200] == []
    assert max(took for _, took in ordinary) < TIMEOUT + 1   # at most one runaway ahead of it, never a queue
    limited = [retry for status, retry in runaway_statuses if status == 429]
    assert limited and all(retry and int(retry) >= 1 for retry in limited)
    # its runaways did run, and were stopped at the deadline (every 503 carries Retry-After since issue 14)
    assert any(status == 503 for status, _ in runaway_statuses)


def test_seconds_are_charged_and_refilled():
    now = [0.0]
    budget = ClientBudget(seconds=6.0, concurrent=1, queue_wait=0.1, clock=lambda: now[0])

    async def one(client: str, seconds: float) -> None:
        async with budget.slot(client):
            now[0] += seconds

    async def body() -> None:
        await one("a", 7.0)                   # one long query may overdraw
        with pytest.raises(TooManyRequests) as caught:
            await one("a", 0.1)
        assert caught.value.retry_after == 10   # 1 s overdrawn at 6 s per minute
        await one("b", 1.0)                   # another client is not affected
        now[0] += 10.5
        await one("a", 0.1)                   # refilled

    asyncio.run(body())


def test_one_client_waits_in_its_own_lane_then_429():
    budget = ClientBudget(seconds=0, concurrent=1, queue_wait=0.2)

    async def body() -> list[str]:
        results = []

        async def hold(client: str, seconds: float) -> None:
            try:
                async with budget.slot(client):
                    await asyncio.sleep(seconds)
                results.append(client)
            except TooManyRequests:
                results.append(client + ":429")

        await asyncio.gather(hold("a", 0.5), hold("a", 0.1), hold("b", 0.1))
        return results

    assert sorted(asyncio.run(body())) == ["a", "a:429", "b"]


def test_client_is_the_remote_address_unless_a_proxy_is_trusted():
    from starlette.requests import Request

    from tieslod.server.budget import client_of
    request = Request({"type": "http", "client": ("127.0.0.9", 5000),
                       "headers": [(b"x-forwarded-for", b"203.0.113.7, 198.51.100.2")]})
    assert client_of(request, trust_forwarded_for=False) == "127.0.0.9"   # the header is anyone's to write
    assert client_of(request, trust_forwarded_for=True) == "198.51.100.2"  # what the trusted proxy appended
