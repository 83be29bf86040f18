"""The query worker pool in-process: deadlines that really stop a query, limits, release switching."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
import pytest

from tieslod.building.release import build
from tieslod.errors import QueryError, QueryTimeout, ResultTooLarge
from tieslod.formats import result_format
from tieslod.server.context import QueryRequest
from tieslod.querying.policy import ServiceRefused, UpdateRefused, check
from tieslod.server.pool import AnswerCache, QueryPool, ServerBusy
from tieslod.querying.store import NotAcceptableResult
from tieslod.querying.store import Answer

ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def run(coro):
    return asyncio.run(coro)


async def with_pool(pool: QueryPool, coro_fn):
    try:
        return await coro_fn(pool)
    finally:
        pool.stop()


def workers() -> set[int]:
    """Pool workers are forked by multiprocessing's forkserver, a child of this process."""
    servers = [p for p in psutil.Process().children() if "forkserver" in " ".join(p.cmdline())]
    return {w.pid for server in servers for w in server.children() if w.status() != psutil.STATUS_ZOMBIE}


def count_of(answer: Answer) -> int:
    import json
    return int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])


def test_answers_and_errors(real_build):
    release = real_build.release_dir

    async def body(pool: QueryPool) -> None:
        answer = await pool.run(release, QueryRequest(COUNT))
        assert answer.kind == "bindings" and answer.fmt == result_format("json")
        assert count_of(answer) == real_build.counts["quads"]
        graph = await pool.run(release, QueryRequest("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3", graph_format="ntriples"))
        assert graph.kind == "graph" and graph.body.count(b"\n") == 3
        with pytest.raises(QueryError, match="error at 1:"):
            await pool.run(release, QueryRequest("SELECT * WHERE {"))
        with pytest.raises(NotAcceptableResult):
            await pool.run(release, QueryRequest("CONSTRUCT WHERE { ?s ?p ?o }", graph_format=""))
        with pytest.raises(QueryError, match="graph IRI"):
            await pool.run(release, QueryRequest(COUNT, default_graph_uris=("not an iri",)))

    run(with_pool(QueryPool(1, 10, 10_000_000), body))


def test_result_over_the_limit_is_refused(real_build):
    async def body(pool: QueryPool) -> None:
        with pytest.raises(ResultTooLarge, match="limit of 10,000 bytes"):
            await pool.run(real_build.release_dir, QueryRequest("CONSTRUCT WHERE { ?s ?p ?o }"))
        small = await pool.run(real_build.release_dir, QueryRequest("ASK {}"))   # the worker is fine
        assert small.kind == "boolean"

    run(with_pool(QueryPool(1, 10, 10_000), body))


def test_deadline_kills_the_worker_and_the_pool_recovers(real_build):
    release = real_build.release_dir

    async def body(pool: QueryPool) -> None:
        await pool.run(release, QueryRequest("ASK {}"))
        before = workers()
        start = time.monotonic()
        with pytest.raises(QueryTimeout, match="deadline of 1 s"):
            await pool.run(release, QueryRequest(ENDLESS))
        assert 0.9 <= time.monotonic() - start < 2.0
        await asyncio.sleep(0.3)
        after = workers()
        assert before - after, "the worker that ran the query was not replaced"
        assert all(not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
                   for pid in before - after)
        assert count_of(await pool.run(release, QueryRequest(COUNT))) == real_build.counts["quads"]

    run(with_pool(QueryPool(2, 1.0, 10_000_000), body))


def test_busy_pool_answers_503_instead_of_waiting_forever(real_build):
    release = real_build.release_dir

    async def body(pool: QueryPool) -> None:
        await pool.run(release, QueryRequest("ASK {}"))
        runaway = asyncio.ensure_future(pool.run(release, QueryRequest(ENDLESS)))
        await asyncio.sleep(0.2)
        start = time.monotonic()
        with pytest.raises(ServerBusy, match="busy"):
            await pool.run(release, QueryRequest(COUNT))
        assert time.monotonic() - start < 1.0
        runaway.cancel()   # a cancelled request kills its worker too
        with pytest.raises(asyncio.CancelledError):
            await runaway
        assert count_of(await pool.run(release, QueryRequest(COUNT))) == real_build.counts["quads"]

    run(with_pool(QueryPool(1, 30, 10_000_000, queue_wait=0.4), body))


def test_workers_follow_the_release_they_are_given(real_build, mini_settings):
    mini = build(mini_settings)

    async def body(pool: QueryPool) -> list[int]:
        counts = []
        for release in (real_build.release_dir, mini.release_dir, real_build.release_dir, mini.release_dir):
            counts.append(count_of(await pool.run(Path(release), QueryRequest(COUNT))))
        return counts

    counts = run(with_pool(QueryPool(2, 10, 10_000_000), body))
    assert counts == [real_build.counts["quads"], mini.counts["quads"]] * 2


def test_guard_refuses_service_and_updates():
    with pytest.raises(ServiceRefused):
        check("SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")
    with pytest.raises(UpdateRefused):
        check("DELETE { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")
    assert check("SELECT (RAND() AS ?r) {}").volatile


def test_answer_cache_is_bounded_and_lru():
    fmt = result_format("json")
    cache = AnswerCache(max_bytes=1000, max_entry_bytes=500)
    for key in "abc":
        cache.put(key, Answer("bindings", b"x" * 300, fmt))
    assert cache.get("a") is None and cache.get("b") is not None   # a was evicted first
    cache.put("d", Answer("bindings", b"x" * 300, fmt))
    assert cache.get("c") is None and cache.get("b") is not None    # b was used recently, c not
    cache.put("huge", Answer("bindings", b"x" * 600, fmt))
    assert cache.get("huge") is None and cache.size <= 1000
