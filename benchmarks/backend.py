"""The query layer's cost per backend (issue 15): the page queries through store.run_query on the
embedded store vs RemoteBackend over `oxigraph serve` and Virtuoso holding the same release.

    .venv/bin/python benchmarks/backend.py [--articles N] [--repeat 30] [--concurrency 8]

Builds the bundled data (or a synthetic corpus of N articles), pushes it with --graph-per-source to
both servers, then times each query sequentially (median of --repeat) and a burst of 4 x
--concurrency queries at --concurrency in flight (queries/s). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "benchmarks")]
from _virtuoso import start_virtuoso  # noqa: E402
from push import oxigraph  # noqa: E402
from tieslod.querying.backend import RemoteBackend  # noqa: E402
from tieslod.building.release import build  # noqa: E402
from tieslod.config import Settings  # noqa: E402
from tieslod.querying.resource import describe_query  # noqa: E402
from tieslod.querying.neighbourhood import neighbourhood_query  # noqa: E402
from tieslod.querying.connections import TIE_QUERY  # noqa: E402
from tieslod.api import push
from tieslod.publishing.push import release_graph  # noqa: E402
from tieslod.querying.reconcile import entity_query  # noqa: E402
from tieslod.querying.store import open_read_only, run_query  # noqa: E402
from synthetic import generate  # noqa: E402


def queries(settings: Settings, entity: str) -> dict[str, tuple[str, str]]:
    return {"describe (entity page)": (describe_query(entity), "ntriples"),
            "neighbourhood": (neighbourhood_query(entity), ""),
            "entities (index)": (entity_query(settings), ""),
            "ties (path index)": (TIE_QUERY, ""),
            "ASK point": (f"ASK {{ <{entity}> ?p ?o }}", "")}


async def remote_times(url: str, settings: Settings, query: str, graph_fmt: str, repeat: int,
                       concurrency: int) -> tuple[float, float]:
    backend = RemoteBackend(url, release_graph(settings), max_connections=concurrency, timeout=60)
    try:
        await backend.query(query, graph_format=graph_fmt or "turtle")   # warm: release read, connection open
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            await backend.query(query, graph_format=graph_fmt or "turtle")
            times.append(time.perf_counter() - began)
        burst = 4 * concurrency
        began = time.perf_counter()
        await asyncio.gather(*(backend.query(query, graph_format=graph_fmt or "turtle") for _ in range(burst)))
        return statistics.median(times) * 1000, burst / (time.perf_counter() - began)
    finally:
        await backend.aclose()


def local_times(settings: Settings, query: str, graph_fmt: str, repeat: int) -> float:
    store = open_read_only(settings.out_dir / "current")
    run_query(store, query, graph_fmt=graph_fmt or "turtle")
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run_query(store, query, graph_fmt=graph_fmt or "turtle")
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=0, help="synthetic corpus size (0: the bundled data)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tieslod-backend-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    if args.articles:
        generate(work / "data", args.articles, seed=1)
        settings = Settings(data_dir=work / "data", out_dir=work / "build")
        entity = settings.base_uri + "id/syn-person-1"
    else:
        settings = Settings(out_dir=work / "build")
        entity = settings.base_uri + "id/rodina"
    build(settings)
    virtuoso = start_virtuoso(work / "virtuoso")
    proc, base = oxigraph(work / "oxigraph")
    try:
        push(settings, virtuoso.gsp, per_source=True, auth=virtuoso.auth, query_endpoint=virtuoso.sparql)
        push(settings, base + "/store", per_source=True, query_endpoint=base + "/query")
        print(f"| query | embedded ms | oxigraph serve ms | q/s at c={args.concurrency} | Virtuoso ms | "
              f"q/s at c={args.concurrency} |\n| --- | --- | --- | --- | --- | --- |")
        for name, (query, fmt) in queries(settings, entity).items():
            local = local_times(settings, query, fmt, args.repeat)
            ox_ms, ox_qps = asyncio.run(remote_times(base + "/query", settings, query, fmt, args.repeat, args.concurrency))
            v_ms, v_qps = asyncio.run(remote_times(virtuoso.sparql, settings, query, fmt, args.repeat, args.concurrency))
            print(f"| {name} | {local:.2f} | {ox_ms:.2f} | {ox_qps:.0f} | {v_ms:.2f} | {v_qps:.0f} |")
    finally:
        virtuoso.stop()
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
