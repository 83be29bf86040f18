"""Front-end pages/s (issue 15): `tieslod serve` over the embedded store vs `tieslod serve --sparql-endpoint`
over `oxigraph serve` and over Virtuoso holding the same release (pushed with --graph-per-source).

    .venv/bin/python benchmarks/frontend.py [--articles N] [--seconds 15] [--concurrency 8] [--union] [--write]

Builds the bundled data (or a synthetic corpus of N articles: 2,500 is ~1M quads), pushes it to both
servers, starts three front ends (one HTTP process each, answer cache off so that every page asks its
queries), and loads each with wrk (one thread, --concurrency connections, --seconds) over entity pages
in HTML (describe in two steps + the neighbourhood picture: three queries a page), rotating through up
to 200 entities. Prints, and with --write puts into BENCHMARKS.md, a Markdown table with the load
average next to each figure (the machine is shared). --union adds two more databases holding the union
pushed into one graph (`push --graph`), to compare with the FROM list of every graph.
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
from push import oxigraph  # noqa: E402
from tieslod.building.release import build  # noqa: E402
from tieslod.config import Settings  # noqa: E402
from tieslod.api import push  # noqa: E402
from tieslod.querying.store import open_read_only, run_query  # noqa: E402
from synthetic import generate  # noqa: E402

START, END = "<!-- frontend:start -->", "<!-- frontend:end -->"
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
        httpx.get(url + path, headers={"Accept": "text/html"}, timeout=120)
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


def run(args: argparse.Namespace, work: Path) -> str:
    if args.articles:
        generate(work / "data", args.articles, seed=1)
        settings = Settings(data_dir=work / "data", out_dir=work / "build")
    else:
        settings = Settings(out_dir=work / "build")
    began = time.monotonic()
    build(settings)
    quads = json.loads((settings.out_dir / "current" / "manifest.json").read_text())["counts"].get("quads", "")
    graphs = len(json.loads((settings.out_dir / "current" / "manifest.json").read_text())["graphs"])
    print(f"built in {time.monotonic() - began:.1f} s ({graphs} graphs)", file=sys.stderr, flush=True)
    paths = entity_paths(settings)
    virtuoso = start_virtuoso(work / "virtuoso")
    proc, base = oxigraph(work / "oxigraph")
    fronts: list[subprocess.Popen] = []
    label = f"synthetic {args.articles} articles" if args.articles else "bundled"
    rows = []
    try:
        push(settings, virtuoso.gsp, per_source=True, auth=virtuoso.auth, query_endpoint=virtuoso.sparql)
        push(settings, base + "/store", per_source=True, query_endpoint=base + "/query")
        print(f"pushed ({time.monotonic() - began:.1f} s)", file=sys.stderr, flush=True)
        timeout = ["--timeout", "60", "--sparql-timeout", "60"]
        for name, extra, out in (("embedded store (2 query workers)", (), settings.out_dir),
                                 ("remote oxigraph serve", ("--sparql-endpoint", base + "/query"), work / "empty1"),
                                 ("remote Virtuoso 7.2.5", ("--sparql-endpoint", virtuoso.sparql), work / "empty2")):
            out.mkdir(exist_ok=True)
            fp, url = front_end(settings, out, *timeout, *extra)
            fronts.append(fp)
            got = load(url, paths, args.seconds, args.concurrency, work)
            rows.append(f"| {label} ({graphs} graphs{f', {quads:,} quads' if quads else ''}) | {name} | "
                        f"{got['rps']:.1f} | {got['p50']:.0f} | {got['bad']} | {got['load']:.1f} |")
            print(rows[-1], file=sys.stderr, flush=True)
            fp.terminate()
            fp.wait(20)
        if args.union:
            rows += union_rows(args, settings, work, paths, label, graphs, quads, timeout)
    finally:
        for fp in fronts:
            if fp.poll() is None:
                fp.kill()
        virtuoso.stop()
        proc.terminate()
        proc.wait(10)
    return "\n".join(rows)


def union_rows(args: argparse.Namespace, settings: Settings, work: Path, paths: list[str], label: str,
               graphs: int, quads: object, timeout: list[str]) -> list[str]:
    """The alternative to a FROM list of every graph: the union pushed into one graph (push --graph), so the
    description names one graph and every query carries one FROM and one FROM NAMED."""
    union = settings.base_uri + "graph/union"
    virtuoso = start_virtuoso(work / "virtuoso-union")
    proc, base = oxigraph(work / "oxigraph-union")
    rows = []
    try:
        for journal in settings.out_dir.glob("push-journal-*.json"):
            journal.unlink()
        push(settings, virtuoso.gsp, graph=union, auth=virtuoso.auth, query_endpoint=virtuoso.sparql)
        push(settings, base + "/store", graph=union, query_endpoint=base + "/query")
        for name, url in (("remote oxigraph serve, union in one graph", base + "/query"),
                          ("remote Virtuoso 7.2.5, union in one graph", virtuoso.sparql)):
            out = work / f"empty-{len(rows)}-union"
            out.mkdir()
            fp, front = front_end(settings, out, *timeout, "--sparql-endpoint", url)
            try:
                got = load(front, paths, args.seconds, args.concurrency, work)
            finally:
                fp.terminate()
                fp.wait(20)
            rows.append(f"| {label} ({graphs} graphs{f', {quads:,} quads' if quads else ''}) | {name} | "
                        f"{got['rps']:.1f} | {got['p50']:.0f} | {got['bad']} | {got['load']:.1f} |")
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        virtuoso.stop()
        proc.terminate()
        proc.wait(10)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=0, help="synthetic corpus size (0: the bundled data)")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--union", action="store_true", help="also measure the union pushed into one graph")
    parser.add_argument("--write", action="store_true", help="append the rows to BENCHMARKS.md's front-end table")
    args = parser.parse_args()
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
