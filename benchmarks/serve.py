"""`tieslod serve` against `oxigraph serve-read-only` on the same store (issue 3).

    python benchmarks/serve.py [--duration 5] [--articles N] [--work DIR] [--write]

For the bundled dataset and a ~1M-triple synthetic corpus (benchmarks/synthetic.py, built once into
--work and reused), runs four queries (a point lookup of one entity's claims, a 2-hop join with a
FILTER, a GROUP BY aggregate, a CONSTRUCT of one entity; each over 50 entities drawn at random)
with wrk at concurrency 1 and 8 for --duration seconds each, against oxigraph (--union-default-
graph, the same semantics as ours), tieslod with its answer cache (the default) and tieslod with
--cache-mb 0 (every request through a worker process). Then a load of 10,000 requests at
concurrency 32 mixing the four queries with a few deadline-exceeding ones, counting statuses.
With --write, the tables go into BENCHMARKS.md between <!-- serve:start --> and <!-- serve:end -->."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox

from tieslod.building.release import build
from tieslod.config import Settings
from synthetic import articles_for, generate

ROOT = Path(__file__).resolve().parent.parent
OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
PREFIX = "PREFIX tl: <https://w3id.org/tieslod/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
QUERIES = {   # name: (template over an entity IRI, Accept)
    "lookup": ("SELECT ?claim ?stance ?tie WHERE { ?tie tl:subject <E> . ?claim tl:tie ?tie ; tl:stance ?stance }",
               "application/sparql-results+json"),
    "2-hop join + FILTER": ("SELECT ?claim ?other ?label WHERE { ?tie tl:subject <E> ; tl:object ?other . "
                            "?other rdfs:label ?label . ?claim tl:tie ?tie ; tl:stance ?stance "
                            "FILTER(?stance != tl:Denies && LANG(?label) = \"\") }", "application/sparql-results+json"),
    "GROUP BY aggregate": ("SELECT ?stance (COUNT(DISTINCT ?claim) AS ?n) WHERE { ?tie tl:subject|tl:object <E> . "
                           "?claim tl:tie ?tie ; tl:stance ?stance } GROUP BY ?stance", "application/sparql-results+json"),
    "CONSTRUCT entity": ("CONSTRUCT { <E> ?p ?o . ?tie ?tp ?to } WHERE { { <E> ?p ?o } UNION "
                         "{ ?tie tl:subject <E> ; ?tp ?to } }", "text/turtle"),
}
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], {["Accept"] = os.getenv("WRK_ACCEPT")})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT {\\"requests\\": %d, \\"seconds\\": %f, \\"non2xx\\": %d, \\"errors\\": %d, "
    .. "\\"p50\\": %f, \\"p99\\": %f}\\n", summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({url})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"server did not come up: {url}")


@contextlib.contextmanager
def server(kind: str, settings: Settings, log: Path, cache_mb: float = 64, timeout: float = 10,
           http_workers: int = 2) -> Iterator[str]:
    """Yield the query URL of a running server; stop it afterwards."""
    port = free_port()
    if kind == "oxigraph":
        cmd = [OXIGRAPH, "serve-read-only", "--location", str(settings.out_dir / "current" / "store"),
               "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
        url = f"http://127.0.0.1:{port}/query"
    else:
        cmd = [sys.executable, "-m", "tieslod.cli", "serve", "--data", str(settings.data_dir), "--out",
               str(settings.out_dir), "--port", str(port), "--cache-mb", str(cache_mb), "--timeout", str(timeout),
               "--http-workers", str(http_workers), "--workers", "2",
               # wrk is one client: the per-client budget would measure the policy, not the server
               "--client-concurrent", "0", "--client-query-seconds", "0"]
        url = f"http://127.0.0.1:{port}/sparql"
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_up(url, proc)
        yield url
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def entities(settings: Settings, count: int, seed: int = 7) -> list[str]:
    store = ox.Store.read_only(str(settings.out_dir / "current" / "store"))
    rows = store.query(PREFIX + "SELECT DISTINCT ?e WHERE { ?tie tl:subject ?e . ?claim tl:tie ?tie }",
                       use_default_graph_as_union=True)
    found = sorted(str(r["e"].value) for r in rows)
    del store
    return random.Random(seed).sample(found, min(count, len(found)))


def wrk(url: str, query: str, accept: str, ents: list[str], concurrency: int, seconds: float, tmp: Path) -> dict:
    paths = tmp / "paths.txt"
    base = url.split("127.0.0.1:", 1)[1].split("/", 1)[1]
    paths.write_text("".join(f"/{base}?query={quote(PREFIX + query.replace('<E>', f'<{e}>'))}\n" for e in ents))
    script = tmp / "mix.lua"
    script.write_text(WRK_SCRIPT)
    threads = min(concurrency, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "-s", str(script), url],
                         capture_output=True, text=True, env={**os.environ, "WRK_PATHS": str(paths), "WRK_ACCEPT": accept})
    found = re.search(r"RESULT (\{.*\})", out.stdout)
    if found is None:
        raise SystemExit("wrk failed:\n" + out.stdout + out.stderr)
    result = json.loads(found[1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


LOAD_SCRIPT = """
local paths, accepts = {}, {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  local accept, path = line:match("^(%S+) (.*)$")
  paths[#paths + 1] = path; accepts[#accepts + 1] = accept
end
local limit = tonumber(os.getenv("WRK_LIMIT"))
local endless = {[100] = true, [600] = true, [1100] = true}   -- per thread: early, so all are answered
sent, got, codes, threads = 0, 0, {}, {}
function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end
request = function()
  sent = sent + 1
  if endless[sent] then
    return wrk.format("GET", os.getenv("WRK_ENDLESS"), {["Accept"] = "application/sparql-results+json"})
  end
  local i = (sent % #paths) + 1
  return wrk.format("GET", paths[i], {["Accept"] = accepts[i]})
end
response = function(status, headers, body)
  got = got + 1
  codes[status] = (codes[status] or 0) + 1
  -- this thread's share is answered, its deadline-exceeding ones included (each gets 503):
  -- tell benchmarks/serve.py, which stops wrk
  if got >= limit and (codes[503] or 0) >= 3 and not finished then
    finished = true
    io.open(os.getenv("WRK_DONE") .. id, "w"):close()
    wrk.thread:stop()
  end
end
done = function(summary, latency, requests)
  local parts = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("codes")) do parts[#parts + 1] = string.format("\\"%d\\": %d", code, n) end
  end
  io.write(string.format("RESULT {\\"codes\\": [{%s}], \\"seconds\\": %f, \\"errors\\": %d, \\"p99\\": %f}\\n",
    table.concat(parts, "}, {"), summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(99) / 1000))
end
"""


def load(url: str, ents: list[str], tmp: Path, total: int = 10_000, concurrency: int = 32) -> dict:
    """At least `total` answers at `concurrency` (wrk, 2 threads) mixing the four queries over the
    entities, with 3 deadline-exceeding queries per thread among them (sent early and close together,
    so they overlap); each thread runs until its share and its 3 slow answers are in. Counts by status."""
    base = "/" + url.split("127.0.0.1:", 1)[1].split("/", 1)[1]
    rng = random.Random(11)
    lines = [f"{QUERIES[name][1]} {base}?query={quote(PREFIX + QUERIES[name][0].replace('<E>', f'<{rng.choice(ents)}>'))}"
             for name in rng.choices(list(QUERIES), k=997)]
    (tmp / "load.txt").write_text("\n".join(lines) + "\n")
    (tmp / "load.lua").write_text(LOAD_SCRIPT)
    env = {**os.environ, "WRK_PATHS": str(tmp / "load.txt"), "WRK_LIMIT": str(total // 2),
           "WRK_ENDLESS": f"{base}?query={quote(ENDLESS)}", "WRK_DONE": str(tmp / "done-")}
    start = time.monotonic()
    proc = subprocess.Popen(["wrk", "-t2", f"-c{concurrency}", "-d600s", "--timeout", "60s", "-s",
                             str(tmp / "load.lua"), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300   # a safety net only: a run takes seconds
    while len(list(tmp.glob("done-*"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    seconds = time.monotonic() - start
    proc.send_signal(2)   # wrk ends its run on SIGINT and still reports (done() included)
    stdout, stderr = proc.communicate()
    found = re.search(r"RESULT (\{.*\})", stdout)
    if found is None:
        raise SystemExit("wrk failed:\n" + stdout + stderr)
    result = json.loads(found[1])
    result["seconds"] = seconds
    counts: Counter = Counter()
    for part in result["codes"]:
        counts.update({int(code): n for code, n in part.items()})
    return {"counts": counts, "seconds": result["seconds"], "errors": result["errors"], "p99": result["p99"],
            "endless": 6}


def prepare(work: Path, articles: int, synthetic: bool = True) -> dict[str, Settings]:
    real = Settings(out_dir=work / "real")
    build(real)
    if not synthetic:
        return {"bundled dataset": real}
    data = work / "synth-data"
    if not (data / "articles").is_dir():
        generate(data, articles)
    synth = Settings(data_dir=data, out_dir=work / "synth")
    print("building the synthetic corpus (reused when it exists) ...", file=sys.stderr)
    result = build(synth)
    return {"bundled dataset": real, f"synthetic ({result.counts['quads']:,} quads)": synth}


def compare(datasets: dict[str, Settings], seconds: float, work: Path) -> list[list[str]]:
    rows = []
    log = work / "servers.log"
    for label, settings in datasets.items():
        ents = entities(settings, 50)
        results: dict[tuple[str, str, int], dict] = {}
        for variant, kind, cache in (("oxigraph", "oxigraph", 0), ("cache", "tieslod", 64), ("no cache", "tieslod", 0)):
            with server(kind, settings, log, cache_mb=cache) as url, tempfile.TemporaryDirectory() as tmp:
                for name, (query, accept) in QUERIES.items():
                    for conc in (1, 8):
                        results[(variant, name, conc)] = r = wrk(url, query, accept, ents, conc, seconds, Path(tmp))
                        print(f"{label} | {variant} | {name} | c={conc}: {r['rps']:.0f} req/s p50 {r['p50']:.2f} ms "
                              f"p99 {r['p99']:.2f} ms non-2xx {r['non2xx']} errors {r['errors']}", file=sys.stderr)
        for name in QUERIES:
            for conc in (1, 8):
                ox_r = results[("oxigraph", name, conc)]
                cells = [label, name, str(conc), f"{ox_r['rps']:,.0f}", f"{ox_r['p50']:.1f} / {ox_r['p99']:.1f}"]
                for variant in ("cache", "no cache"):
                    r = results[(variant, name, conc)]
                    bad = r["non2xx"] + r["errors"]
                    cells += [f"{r['rps']:,.0f}" + (f" ({bad} failed)" if bad else ""),
                              f"{r['p50']:.1f} / {r['p99']:.1f}", f"{r['rps'] / ox_r['rps']:.2f}x"]
                rows.append(cells)
    return rows


def render(rows: list[list[str]], loaded: dict, seconds: float, command: str) -> str:
    head = ["dataset", "query", "c", "oxigraph req/s", "p50 / p99 ms", "tieslod req/s", "p50 / p99 ms", "ratio",
            "tieslod no-cache req/s", "p50 / p99 ms", "ratio"]
    lines = ["## SPARQL server (issue 3)", "",
             f"Reproduce: `{command}` (2-core machine, loopback; wrk for {seconds:g} s per cell; each query over 50 "
             "entities drawn at random; `oxigraph serve-read-only --union-default-graph` on the same on-disk store; "
             "tieslod with `--http-workers 2 --workers 2` (2 HTTP processes, each with 2 query workers and its own "
             "answer cache), access log on; \"no cache\" is `--cache-mb 0`, every request through a worker process). "
             "Latency in ms.", "",
             "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    for label, result in loaded.items():
        counts, answers = result["counts"], sum(result["counts"].values())
        summary = ", ".join(f"{n:,} x {status}" for status, n in sorted(counts.items()))
        unintended = answers - counts.get(200, 0) - min(counts.get(503, 0), result["endless"])
        ok = unintended == 0 and counts.get(503, 0) == result["endless"] and result["errors"] == 0
        lines += ["", f"Load on the {label} (tieslod, `--timeout 2`, wrk): {answers:,} requests answered at concurrency 32 in "
                  f"{result['seconds']:.1f} s ({answers / result['seconds']:,.0f} req/s, p99 {result['p99']:.0f} ms, "
                  f"including the deadline-exceeding ones), mixing the four queries with {result['endless']} "
                  f"deadline-exceeding ones: {summary}; {result['errors']} socket errors. "
                  + ("No request failed other than the intended 503s." if ok else
                     f"**{unintended} unintended failures.**")]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"<!-- serve:start -->\n{text}<!-- serve:end -->"
    if "<!-- serve:start -->" in current:
        current = re.sub(r"<!-- serve:start -->.*?<!-- serve:end -->", lambda _: block, current, flags=re.S)
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of wrk per cell")
    parser.add_argument("--articles", type=int, default=articles_for(1_000_000), help="synthetic corpus size")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tieslod-bench")
    parser.add_argument("--no-synthetic", action="store_true", help="only the bundled dataset (a quick check)")
    parser.add_argument("--write", action="store_true", help="write the tables into BENCHMARKS.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("benchmarks/serve.py needs wrk (Debian: apt-get install wrk)")
    datasets = prepare(args.work, args.articles, not args.no_synthetic)
    rows = compare(datasets, args.duration, args.work)
    loaded = {}
    for label, settings in datasets.items():
        with server("tieslod", settings, args.work / "servers.log", timeout=2) as url:
            with tempfile.TemporaryDirectory() as tmp:
                loaded[label] = load(url, entities(settings, 50), Path(tmp))
            print(label, dict(loaded[label]["counts"]), file=sys.stderr)
    command = "python benchmarks/serve.py " + " ".join(sys.argv[1:])
    text = render(rows, loaded, args.duration, command.strip())
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
