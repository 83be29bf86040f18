"""Front-end pages/s (issue 15): `tieslod serve` over the embedded store vs `tieslod serve --sparql-endpoint`
over `oxigraph serve` and over Virtuoso holding the same release (pushed with --graph-per-source).

    .venv/bin/python benchmarks/frontend.py [--articles N] [--seconds 15] [--concurrency 8] [--write]

Builds the bundled data (or a synthetic corpus of N articles: 2,500 is ~1M quads), pushes it to both
servers, starts three front ends (one HTTP process each, answer cache off so that every page asks its
queries), and loads each with wrk (one thread, --concurrency connections, --seconds) over entity pages
in HTML (describe in two steps + the neighbourhood picture: three queries a page), rotating through up
to 200 entities. Prints, and with --write puts into BENCHMARKS.md, a Markdown table with the load
average next to each figure (the machine is shared). Each database is measured twice: as push leaves it
(the union graph named as sd:defaultGraph: every query has one FROM), then with that triple taken out of
the description, so the front end names every graph in FROM/FROM NAMED as it did before (the "before").
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "benchmarks")]
from _virtuoso import start_virtuoso  # noqa: E402
from conftest import free_port  # noqa: E402
from _oxigraph import Oxigraph  # noqa: E402
from tieslod.building.release import build  # noqa: E402
from tieslod.config import Settings  # noqa: E402
from tieslod.api import push  # noqa: E402
from tieslod.querying.store import open_read_only, run_query  # noqa: E402
from synthetic import generate  # noqa: E402

START, END = "<!-- frontend:start -->", "<!-- frontend:end -->"
DEADLINE = 60.0   # --latency: seconds a page query may take; longer ones count as "inf" (> 60 s)
WRK = shutil.which("wrk")
LUA = """paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Accept"] = "text/html"})
end
"""


def entity_paths(settings: Settings, limit: int = 200) -> list[str]:
    base = settings.base_uri + "id/"
    query = f"""SELECT DISTINCT ?s WHERE {{ ?s a ?t ; <http://www.w3.org/2000/01/rdf-schema#label> ?l .
      FILTER (STRSTARTS(STR(?s), "{base}") && !CONTAINS(STR(?s), "/tie/") && !CONTAINS(STR(?s), "/claim/")
              && !CONTAINS(STR(?s), "/review/") && !CONTAINS(STR(?s), "/source/")) }} ORDER BY ?s LIMIT {limit}"""
    body = run_query(open_read_only(settings.out_dir / "current"), query).body
    return ["/id/" + row["s"]["value"][len(base):] for row in json.loads(body)["results"]["bindings"]]


def front_end(settings: Settings, out: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "tieslod.cli", "serve", "--port", str(port), "--out", str(out), "--no-access-log",
           "--cache-mb", "0", "--data", str(settings.data_dir), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + "/sparql", timeout=5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("front end did not start: " + " ".join(cmd))


def load(url: str, paths: list[str], seconds: int, concurrency: int, work: Path) -> dict[str, float]:
    script = work / "pages.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    for path in paths[:3]:   # warm: the search index, the first connections
        try:
            httpx.get(url + path, headers={"Accept": "text/html"}, timeout=60)
        except httpx.TimeoutException:
            pass
    before = os.getloadavg()[0]
    out = subprocess.run([WRK, "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "--timeout", "60s",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    after = os.getloadavg()[0]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {"rps": rps, "bad": int(bad.group(1)) if bad else 0,
            "p50": float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan"), "load": (before + after) / 2}


SD_DEFAULT = "http://www.w3.org/ns/sparql-service-description#defaultGraph"


def forget_union(settings: Settings, update_url: str, auth: httpx.Auth | None) -> None:
    """Take sd:defaultGraph out of the pushed description: front ends then name every graph in FROM and
    FROM NAMED, as they did before push kept the union graph (the "before" rows)."""
    d = settings.base_uri + "dataset"
    update = (f"DELETE {{ GRAPH <{d}> {{ <{d}> <{SD_DEFAULT}> ?u }} }} "
              f"WHERE {{ GRAPH <{d}> {{ <{d}> <{SD_DEFAULT}> ?u }} }}")
    httpx.post(update_url, data={"update": update}, auth=auth, timeout=120).raise_for_status()


def measure(settings: Settings, work: Path, args: argparse.Namespace, paths: list[str], name: str,
            out: Path, *extra: str) -> dict[str, float]:
    out.mkdir(exist_ok=True)
    fp, url = front_end(settings, out, "--timeout", "60", "--sparql-timeout", "60", *extra)
    try:
        return load(url, paths, args.seconds, args.concurrency, work)
    finally:
        fp.terminate()
        try:
            fp.wait(20)
        except subprocess.TimeoutExpired:
            fp.kill()
            fp.wait()


def run(args: argparse.Namespace, work: Path) -> str:
    if args.articles:
        generate(work / "data", args.articles, seed=1)
        settings = Settings(data_dir=work / "data", out_dir=work / "build")
    else:
        settings = Settings(out_dir=work / "build")
    began = time.monotonic()
    build(settings)
    manifest = json.loads((settings.out_dir / "current" / "manifest.json").read_text())
    quads, graphs = manifest["counts"].get("quads", ""), len(manifest["graphs"])
    print(f"built in {time.monotonic() - began:.1f} s ({graphs} graphs)", file=sys.stderr, flush=True)
    paths = entity_paths(settings)
    virtuoso = start_virtuoso(work / "virtuoso")
    ox_server = Oxigraph(work / "oxigraph", free_port())
    ox_server.start()
    base = f"http://127.0.0.1:{ox_server.port}"
    label = f"synthetic {args.articles} articles" if args.articles else "bundled"
    label = f"{label} ({graphs} graphs{f', {quads:,} quads' if quads else ''})"
    rows = []

    def row(name: str, got: dict[str, float]) -> None:
        median = f"{got['p50']:.0f}" if got["p50"] else f"no page within {args.seconds:g} s"
        rows.append(f"| {label} | {name} | {got['rps']:.1f} | {median} | {got['bad']} | {got['load']:.1f} |")
        print(rows[-1], file=sys.stderr, flush=True)
    dbs = (("oxigraph serve", base + "/query", base + "/store", base + "/update", None, None),
           ("Virtuoso 7.2.5", virtuoso.sparql, virtuoso.gsp, virtuoso.base + "/sparql-auth", virtuoso.auth,
            httpx.DigestAuth(*virtuoso.auth.split(":", 1))))
    try:
        for db, query, store, _update, auth, _ in dbs:
            t0 = time.monotonic()
            push(settings, store, per_source=True, auth=auth, query_endpoint=query)
            print(f"push to {db} with the union graph: {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
        row("embedded store (2 query workers)", measure(settings, work, args, paths, "", settings.out_dir))
        for db, query, _store, update, _auth, digest in dbs:
            row(f"remote {db}, union graph (FROM it alone)",
                measure(settings, work, args, paths, db, work / f"empty-{len(rows)}", "--sparql-endpoint", query))
            forget_union(settings, update, digest)
            row(f"remote {db}, FROM list of every graph (before)",
                measure(settings, work, args, paths, db, work / f"empty-{len(rows)}", "--sparql-endpoint", query))
    finally:
        virtuoso.stop()
        ox_server.stop()
    return "\n".join(rows)


def latencies(settings: Settings, query_url: str, paths: list[str], sample: int, auth: str | None) -> dict[str, float]:
    """Median ms per page query over `sample` entities, asked one at a time through RemoteBackend (the
    dataset clauses as a front end writes them), and the bytes of the longest query text sent."""
    import asyncio
    import statistics
    from tieslod.errors import BackendTimeout
    from tieslod.querying.backend import RemoteBackend
    from tieslod.querying.neighbourhood import neighbourhood_query
    from tieslod.querying.resource import describe_nodes_query, related_nodes_query

    async def go() -> dict[str, float]:
        remote = RemoteBackend(query_url, settings.base_uri + "dataset", auth, timeout=DEADLINE, version_ttl=3600)
        times: dict[str, list[float]] = {"related nodes": [], "describe nodes": [], "neighbourhood": [], "ASK point": []}
        try:
            release = await remote.release()
            for path in paths[:sample]:
                iri = settings.base_uri + path[1:]
                for name, query in (("related nodes", related_nodes_query(iri)), ("ASK point", f"ASK {{ <{iri}> ?p ?o }}"),
                                    ("neighbourhood", neighbourhood_query(iri))):
                    began = time.perf_counter()
                    try:
                        answer = await remote.query(query)
                    except BackendTimeout:   # counted as the deadline: the median then reads "> deadline"
                        times[name].append(float("inf"))
                        continue
                    times[name].append((time.perf_counter() - began) * 1000)
                    if name == "related nodes":
                        nodes = [row["n"]["value"] for row in json.loads(answer.body)["results"]["bindings"]]
                        began = time.perf_counter()
                        await remote.query(describe_nodes_query(iri, nodes), graph_format="ntriples")
                        times["describe nodes"].append((time.perf_counter() - began) * 1000)
        finally:
            await remote.aclose()
        default, named = release.dataset(neighbourhood_query(settings.base_uri + paths[0][1:]))
        sent = sum(len(g) + 8 for g in default) + sum(len(g) + 14 for g in named)   # "FROM <g>\n", "FROM NAMED <g>\n"
        return {**{k: statistics.median(v) if v else float("nan") for k, v in times.items()}, "bytes": float(sent)}
    return asyncio.run(go())


def latency_rows(args: argparse.Namespace, work: Path) -> str:
    """--latency: the page queries one at a time, union graph vs FROM list, on both databases."""
    settings = Settings(data_dir=work / "data", out_dir=work / "build") if args.articles else Settings(out_dir=work / "build")
    if args.articles and not (work / "data").is_dir():
        generate(work / "data", args.articles, seed=1)
    build(settings)
    paths = entity_paths(settings)
    virtuoso = start_virtuoso(work / "virtuoso-lat")
    ox_server = Oxigraph(work / "oxigraph-lat", free_port())
    ox_server.start()
    base = f"http://127.0.0.1:{ox_server.port}"
    rows = ["| database | dataset | related nodes ms | describe nodes ms | neighbourhood ms | ASK point ms | FROM clauses, bytes | load |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    try:
        for db, query, store, update, auth in (
                ("oxigraph serve", base + "/query", base + "/store", base + "/update", None),
                ("Virtuoso 7.2.5", virtuoso.sparql, virtuoso.gsp, virtuoso.base + "/sparql-auth", virtuoso.auth)):
            if args.only and args.only.lower() not in db.lower():
                continue
            for journal in [*settings.out_dir.glob("push-journal-*.json"), *settings.out_dir.glob("push-union-*.json")]:
                journal.unlink()
            push(settings, store, per_source=True, auth=auth, query_endpoint=query)
            digest = httpx.DigestAuth(*auth.split(":", 1)) if auth else None
            for mode in ("union graph", "FROM list of every graph"):
                if mode != "union graph":
                    forget_union(settings, update, digest)
                got = latencies(settings, query, paths, args.sample, auth)
                rows.append(f"| {db} | {mode} | {got['related nodes']:.1f} | {got['describe nodes']:.1f} | "
                            f"{got['neighbourhood']:.1f} | {got['ASK point']:.1f} | {got['bytes']:,.0f} | "
                            f"{os.getloadavg()[0]:.1f} |")
                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        virtuoso.stop()
        ox_server.stop()
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=0, help="synthetic corpus size (0: the bundled data)")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="append the rows to BENCHMARKS.md's front-end table")
    parser.add_argument("--latency", action="store_true", help="only the page queries' latency, union vs FROM list")
    parser.add_argument("--sample", type=int, default=10, help="--latency: entities asked")
    parser.add_argument("--only", default="", help="--latency: only the database whose name contains this")
    args = parser.parse_args()
    if args.latency:
        work = Path(tempfile.mkdtemp(prefix="tieslod-latency-"))
        try:
            print(latency_rows(args, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    if not WRK:
        sys.exit("wrk is not installed (Debian package wrk)")
    work = Path(tempfile.mkdtemp(prefix="tieslod-frontend-"))
    try:
        table = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table)
    if args.write:
        text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
        if START not in text:
            raise SystemExit(f"BENCHMARKS.md has no {START} ... {END} section")
        head, rest = text.split(START, 1)
        body, tail = rest.split(END, 1)
        (ROOT / "BENCHMARKS.md").write_text(head + START + body.rstrip("\n") + "\n" + table + "\n" + END + tail,
                                            encoding="utf-8")


if __name__ == "__main__":
    main()
