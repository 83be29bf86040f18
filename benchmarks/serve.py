"""`tieslod serve` against `oxigraph serve-read-only` on the same store, in the same run (issues 3, 13).

    python benchmarks/serve.py [--duration 4] [--articles N] [--work DIR] [--no-synthetic] [--write]

For the bundled dataset and a ~1M-triple synthetic corpus (benchmarks/synthetic.py, built once into
--work and reused), four queries (a point lookup of one entity's claims, a 2-hop join with a FILTER,
a GROUP BY aggregate, a CONSTRUCT of one entity) are sent by wrk for --duration seconds per cell:

- uncached: every request a distinct query (the entity rotates over 50 drawn at random and each text
  ends in its own `LIMIT n`, n larger than any answer), tieslod with `--cache-mb 0`; c=1 and c=8;
- cached: the same 50 texts over and over, tieslod with its answer cache (the default); c=8.

Both against oxigraph (`--union-default-graph`, no timeout: the same semantics as ours) on the same
paths, both servers up at once and each cell sent to one and then the other (the same load for both). tieslod runs with `--http-workers 2 --workers 2`, access log on, and its per-client budget
off (`--client-concurrent 0 --client-query-seconds 0`: wrk is one address, so the budget would
measure the policy). Peak memory (PSS and RSS summed over the server's process tree, sampled every
0.25 s) for each server; then memory against the number of query workers; then the fairness load of
benchmarks/fairness.py with the budget on. The 1-minute load average is recorded beside each figure
(the machine is shared). With --write, the tables go into BENCHMARKS.md between <!-- serve:start -->
and <!-- serve:end -->."""
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
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fairness import EVERY, load as fairness_load  # noqa: E402

from tieslod.building.release import build  # noqa: E402
from tieslod.config import Settings  # noqa: E402
from synthetic import articles_for, generate  # noqa: E402

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
TARGETS = {"lookup": 0.5, "2-hop join + FILTER": 0.9, "GROUP BY aggregate": 0.9, "CONSTRUCT entity": 0.7}
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
LIMIT_BASE = 1_000_000   # distinct texts end in LIMIT LIMIT_BASE + i: larger than any answer here
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local threads, i = 0, 0
id = 0
-- each thread walks its own share of the list, so no two requests of a run repeat a path
function setup(thread) thread:set("id", threads); threads = threads + 1 end
request = function()
  local share = math.floor(#paths / tonumber(os.getenv("WRK_THREADS")))
  local path = paths[(id * share + (i % share)) + 1]
  i = i + 1
  return wrk.format("GET", path, {["Accept"] = os.getenv("WRK_ACCEPT")})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT {\\"requests\\": %d, \\"seconds\\": %f, \\"non2xx\\": %d, \\"errors\\": %d, "
    .. "\\"p50\\": %f, \\"p99\\": %f}\\n", summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def loadavg() -> float:
    return os.getloadavg()[0]


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


class Memory:
    """Peak PSS and RSS (MB) summed over a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every, self.pss, self.rss = pid, every, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[float, float]:
        pss = rss = 0
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.pid)
            for proc in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    info = proc.memory_full_info()
                    pss, rss = pss + info.pss, rss + info.rss
        return pss / 1e6, rss / 1e6

    def _run(self) -> None:
        while not self._stop.is_set():
            pss, rss = self.sample()
            self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)
            self._stop.wait(self.every)

    def __enter__(self) -> "Memory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def server(kind: str, settings: Settings, log: Path, cache_mb: float = 0, timeout: float = 10,
           http_workers: int = 2, workers: int = 2, budget: bool = False,
           extra: tuple[str, ...] = ()) -> Iterator[tuple[str, int]]:
    """Yield (query URL, pid) of a running server; stop it afterwards."""
    port = free_port()
    if kind == "oxigraph":
        cmd = [OXIGRAPH, "serve-read-only", "--location", str(settings.out_dir / "current" / "store"),
               "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
        url = f"http://127.0.0.1:{port}/query"
    else:
        cmd = [sys.executable, "-m", "tieslod.cli", "serve", "--data", str(settings.data_dir), "--out",
               str(settings.out_dir), "--port", str(port), "--cache-mb", str(cache_mb), "--timeout", str(timeout),
               "--http-workers", str(http_workers), "--workers", str(workers)]
        if not budget:   # wrk is one client: the per-client budget would measure the policy, not the server
            cmd += ["--client-concurrent", "0", "--client-query-seconds", "0"]
        cmd += list(extra)
        url = f"http://127.0.0.1:{port}/sparql"
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_up(url, proc)
        yield url, proc.pid
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


def texts(query: str, ents: list[str], n: int | None, start: int = 0) -> list[str]:
    """n distinct query texts (None: one per entity, for the cached runs, repeated by wrk)."""
    if n is None:
        return [PREFIX + query.replace("<E>", f"<{e}>") for e in ents]
    return [PREFIX + query.replace("<E>", f"<{ents[i % len(ents)]}>") + f" LIMIT {LIMIT_BASE + start + i}"
            for i in range(n)]


def wrk(url: str, queries: list[str], accept: str, concurrency: int, seconds: float, tmp: Path) -> dict:
    paths = tmp / "paths.txt"
    base = url.split("127.0.0.1:", 1)[1].split("/", 1)[1]
    paths.write_text("".join(f"/{base}?query={quote(q)}\n" for q in queries))
    script = tmp / "mix.lua"
    script.write_text(WRK_SCRIPT)
    threads = min(concurrency, 2)
    before = loadavg()
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "-s", str(script), url],
                         capture_output=True, text=True, env={**os.environ, "WRK_PATHS": str(paths), "WRK_ACCEPT": accept,
                                                              "WRK_THREADS": str(threads)})
    found = re.search(r"RESULT (\{.*\})", out.stdout)
    if found is None:
        raise SystemExit("wrk failed:\n" + out.stdout + out.stderr)
    result = json.loads(found[1])
    result["rps"] = result["requests"] / result["seconds"]
    # a thread that passed the end of its share started it again (threads run at about one rate)
    result["repeated"] = result["requests"] > len(queries) * 0.95
    result["load"] = max(before, loadavg())
    return result


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


def compare(label: str, settings: Settings, seconds: float, work: Path) -> dict:
    """{variant: {(query, c): wrk result}} plus each server's peak memory. Both servers run at once
    (idle while the other is measured) and each cell goes to oxigraph and then to tieslod back to
    back, with the same texts: on a shared machine both then meet about the same load."""
    ents, log, found = entities(settings, 50), work / "servers.log", {}
    for cached, variants in ((False, (("oxigraph", "oxigraph", 0), ("tieslod", "tieslod", 0))),
                             (True, (("oxigraph cached", "oxigraph", 0), ("tieslod cached", "tieslod", 64)))):
        print(f"{label}: {'cached' if cached else 'distinct'}", file=sys.stderr)
        with contextlib.ExitStack() as stack:
            servers = {}
            for variant, kind, cache_mb in variants:
                url, pid = stack.enter_context(server(kind, settings, log, cache_mb=cache_mb))
                servers[variant] = (url, stack.enter_context(Memory(pid)))
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            results: dict[str, dict] = {variant: {} for variant in servers}
            for k, (name, (query, accept)) in enumerate(QUERIES.items()):
                for conc in ((8,) if cached else (1, 8)):
                    n = None if cached else int(30_000 * seconds)
                    qs = texts(query, ents, n, start=(2 * k + conc) * 10_000_000)
                    for variant, (url, _) in servers.items():
                        r = results[variant][(name, conc)] = wrk(url, qs, accept, conc, seconds, tmp)
                        print(f"  {variant} | {name} | c={conc}: {r['rps']:.0f} req/s p50 {r['p50']:.2f} ms "
                              f"p99 {r['p99']:.2f} ms non-2xx {r['non2xx']} errors {r['errors']} load {r['load']:.1f}"
                              + (" REPEATED" if r["repeated"] and not cached else ""), file=sys.stderr)
        for variant, (_, memory) in servers.items():
            found[variant], found[variant + " memory"] = results[variant], (memory.pss, memory.rss)
    return found


def workers_memory(settings: Settings, seconds: float, work: Path, counts: tuple[int, ...] = (1, 2, 4)) -> list[list[str]]:
    """Idle and peak memory of `--http-workers 2 --workers N` under lookups at c=8, by N."""
    ents, rows = entities(settings, 50), []
    query, accept = QUERIES["lookup"]
    for n in counts:
        with server("tieslod", settings, work / "servers.log", workers=n) as (url, pid), \
                tempfile.TemporaryDirectory() as tmp:
            time.sleep(1.0)
            idle = Memory(pid).sample()
            with Memory(pid) as memory:
                r = wrk(url, texts(query, ents, int(30_000 * seconds), start=n * 100_000_000), accept, 8, seconds, Path(tmp))
            procs = 1 + len(psutil.Process(pid).children(recursive=True))
        rows.append([str(n), str(procs), f"{idle[0]:.0f} / {idle[1]:.0f}", f"{memory.pss:.0f} / {memory.rss:.0f}",
                     f"{r['rps']:,.0f}", f"{r['load']:.1f}"])
        print("  workers", rows[-1], file=sys.stderr)
    return rows


def fairness(settings: Settings, work: Path, total: int = 10_000) -> dict:
    """benchmarks/fairness.py against tieslod with its default budget, --timeout 2, no cache."""
    ents = entities(settings, 50)
    rng = random.Random(11)
    names = rng.choices(list(QUERIES), k=total - total // (EVERY + 1))
    ordinary = [(PREFIX + QUERIES[name][0].replace("<E>", f"<{rng.choice(ents)}>") + f" LIMIT {LIMIT_BASE + i}",
                 QUERIES[name][1]) for i, name in enumerate(names)]
    runaways = [f"{ENDLESS} LIMIT {LIMIT_BASE + i}" for i in range(total - len(ordinary))]
    with server("tieslod", settings, work / "servers.log", timeout=2, budget=True) as (url, pid):
        before = loadavg()
        with Memory(pid) as memory:
            outcome = fairness_load(url, ordinary, runaways)
        result = outcome.summary()
        result.update(load=max(before, loadavg()), pss=memory.pss, rss=memory.rss, sent=(len(ordinary), len(runaways)))
    print("  fairness", result, file=sys.stderr)
    return result


def render(results: dict[str, dict], memory_rows: tuple[str, list[list[str]]], fair: dict[str, dict],
           seconds: float, command: str) -> str:
    head = ["dataset", "query", "c", "oxigraph req/s", "p50 / p99 ms", "tieslod req/s", "p50 / p99 ms", "ratio",
            "target", "load avg"]
    lines = ["## SPARQL server (issues 3, 13)", "",
             f"Reproduce: `{command}` (2-core machine shared with other jobs, loopback; wrk for {seconds:g} s per "
             "cell; `oxigraph serve-read-only --union-default-graph` (no timeout) on the same on-disk store in the "
             "same run, both up at once, each cell sent to oxigraph and then to tieslod; tieslod `--http-workers 2 --workers 2`, access log on, per-client budget off "
             "(`--client-concurrent 0 --client-query-seconds 0`: wrk is a single address). Latency in ms; "
             "\"load avg\" is the 1-minute load average during the cell (2 = both cores busy).", "",
             "### Uncached: every request a distinct query, tieslod `--cache-mb 0`", "",
             "Each text names one of 50 entities drawn at random and ends in its own `LIMIT n` (n above any "
             "answer's size), so no query repeats within the run; the same texts go to oxigraph.", "",
             "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for label, found in results.items():
        for name in QUERIES:
            for conc in (1, 8):
                o, t = found["oxigraph"][(name, conc)], found["tieslod"][(name, conc)]
                ratio = t["rps"] / o["rps"]
                bad = t["non2xx"] + t["errors"]
                verdict = "" if conc == 1 else (f"{TARGETS[name]}x: " + ("met" if ratio >= TARGETS[name] else "**missed**"))
                if name == "lookup" and conc == 8:
                    verdict += "; p99 < 25 ms: " + ("met" if t["p99"] < 25 else "**missed**")
                lines.append("| " + " | ".join([
                    label, name, str(conc), f"{o['rps']:,.0f}", f"{o['p50']:.1f} / {o['p99']:.1f}",
                    f"{t['rps']:,.0f}" + (f" ({bad} failed)" if bad else "") + (" (repeated)" if t["repeated"] else ""),
                    f"{t['p50']:.1f} / {t['p99']:.1f}", f"{ratio:.2f}x", verdict,
                    f"{o['load']:.1f} / {t['load']:.1f}"]) + " |")
    lines += ["", "### Cached: the same 50 texts repeated, tieslod with its answer cache (64 MB, the default)", "",
              "| dataset | query | c | oxigraph req/s | p50 / p99 ms | tieslod req/s | p50 / p99 ms | ratio | load avg |",
              "|" + " --- |" * 9]
    for label, found in results.items():
        for name in QUERIES:
            o, t = found["oxigraph cached"][(name, 8)], found["tieslod cached"][(name, 8)]
            lines.append(f"| {label} | {name} | 8 | {o['rps']:,.0f} | {o['p50']:.1f} / {o['p99']:.1f} | "
                         f"{t['rps']:,.0f} | {t['p50']:.1f} / {t['p99']:.1f} | {t['rps'] / o['rps']:.2f}x | "
                         f"{o['load']:.1f} / {t['load']:.1f} |")
    lines += ["", "### Memory", "", "Peak over each server's runs above (MB, PSS / RSS summed over its processes; "
              "PSS counts a page shared by n processes 1/n in each):", ""]
    for label, found in results.items():
        lines.append(f"- {label}: oxigraph {found['oxigraph memory'][0]:.0f} / {found['oxigraph memory'][1]:.0f}; "
                     f"tieslod uncached {found['tieslod memory'][0]:.0f} / {found['tieslod memory'][1]:.0f}; "
                     f"tieslod cached {found['tieslod cached memory'][0]:.0f} / {found['tieslod cached memory'][1]:.0f}.")
    mem_label, rows = memory_rows
    lines += ["", f"By the number of query workers ({mem_label}, `--http-workers 2 --workers N`, so 2N workers; "
              "lookups at c=8 for the peak):", "",
              "| --workers | processes | idle MB (PSS / RSS) | peak MB under load (PSS / RSS) | req/s | load avg |",
              "|" + " --- |" * 6]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "### Fairness: one client's runaways among 30 others (benchmarks/fairness.py)", "",
              "tieslod `--timeout 2 --cache-mb 0`, per-client budget on (its defaults: 60 query seconds per "
              "minute, `--workers` - 1 = 1 query at once per client, both per HTTP process). 32 connection "
              "slots take the next request of one shuffled list of 10,000: 9,800 distinct ordinary queries "
              "mixing the four above, each sent from the slot's own client (127.0.0.10-41), and 200 runaways "
              "(a triple cross product, endless), all from one client (127.0.0.2), which thus has as many in "
              "flight as the draw gives it.", ""]
    for label, r in fair.items():
        others_bad = sum(n for status, n in r["ordinary"].items() if status != 200)
        verdict = ("met" if others_bad == 0 and r["p99_ms"] < 1000 and r["errors"] == 0 else "**missed**")
        lines.append(f"- {label}: {sum(r['ordinary'].values()) + sum(r['runaway'].values()):,} requests in "
                     f"{r['seconds']:.1f} s (load avg {r['load']:.1f}). Ordinary clients: "
                     + ", ".join(f"{n:,} x {s}" for s, n in sorted(r["ordinary"].items()))
                     + f"; p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, slowest {r['max_ms']:.0f} ms. "
                     "Runaway client: " + ", ".join(f"{n} x {s}" for s, n in sorted(r["runaway"].items()))
                     + f". Socket errors: {r['errors']}. Peak memory {r['pss']:.0f} / {r['rss']:.0f} MB "
                     f"(PSS / RSS). Target (others all 200, p99 < 1 s): {verdict}.")
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
    parser.add_argument("--duration", type=float, default=4.0, help="seconds of wrk per cell")
    parser.add_argument("--articles", type=int, default=articles_for(1_000_000), help="synthetic corpus size")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tieslod-bench")
    parser.add_argument("--no-synthetic", action="store_true", help="only the bundled dataset (a quick check)")
    parser.add_argument("--write", action="store_true", help="write the tables into BENCHMARKS.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("benchmarks/serve.py needs wrk (Debian: apt-get install wrk)")
    datasets = prepare(args.work, args.articles, not args.no_synthetic)
    results = {label: compare(label, settings, args.duration, args.work) for label, settings in datasets.items()}
    mem_label = list(datasets)[-1]
    memory_rows = (mem_label, workers_memory(datasets[mem_label], args.duration, args.work))
    fair = {label: fairness(settings, args.work) for label, settings in datasets.items()}
    argv, shown = sys.argv[1:], []
    while argv:   # the command as run, without --work (a machine path)
        arg = argv.pop(0)
        if arg == "--work":
            argv = argv[1:]
        elif not arg.startswith("--work="):
            shown.append(arg)
    command = "python benchmarks/serve.py " + " ".join(shown)
    text = render(results, memory_rows, fair, args.duration, command.strip())
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
