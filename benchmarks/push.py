"""`tieslod push` timed against a real Virtuoso and a real `oxigraph serve` (issue 15).

    .venv/bin/python benchmarks/push.py [--articles 250] [--starts 5] [--work DIR]

Measures Virtuoso's start-up on a fresh database (tests/_virtuoso.py: virtuoso-t, the user and its
grant, a write probe), then for the bundled release and a synthetic corpus of --articles articles
(~400 triples each): a push with one graph per source and a push of the union into one named graph,
default batch size, with verification by SPARQL COUNT, each to a freshly emptied server. Prints a table.
A per-source push also keeps the union graph (publishing/union.py). With --incremental, also: one
article's summary reworded, rebuilt, and pushed again, with --update-endpoint (the union's difference)
and without (the union graph replaced whole).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
from _oxigraph import Oxigraph  # noqa: E402
from _virtuoso import start_virtuoso  # noqa: E402
from conftest import free_port  # noqa: E402
from tieslod.building.release import build  # noqa: E402
from tieslod.config import Settings  # noqa: E402
from tieslod.api import push  # noqa: E402
from synthetic import generate  # noqa: E402



def timed_push(settings: Settings, **kwargs: object) -> tuple[float, int, int]:
    for journal in [*settings.out_dir.glob("push-journal-*.json"), *settings.out_dir.glob("push-union-*.json")]:
        journal.unlink()
    began = time.monotonic()
    result = push(settings, **kwargs)  # type: ignore[arg-type]
    return time.monotonic() - began, sum(result.graphs.values()), result.requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=250)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--incremental", action="store_true", help="only the push of one changed article")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="tieslod-push-bench-"))
    try:
        run(args, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def reword_one(settings: Settings) -> None:
    article = sorted((settings.data_dir / "articles").glob("*.ttl"))[len(list((settings.data_dir / "articles").glob("*.ttl"))) // 2]
    text = article.read_text(encoding="utf-8")
    assert 'tl:summary "' in text, article
    article.write_text(text.replace('tl:summary "', 'tl:summary "Reworded: ', 1), encoding="utf-8")
    build(settings)


def incremental(args: argparse.Namespace, work: Path) -> None:
    generate(work / "synth", args.articles, seed=1)
    settings = Settings(data_dir=work / "synth", out_dir=work / "synth-build")
    build(settings)
    print("| data | server | second push | graphs sent | requests | seconds |\n| --- | --- | --- | --- | --- | --- |")
    virtuoso = start_virtuoso(work / "v-inc")
    remote = Oxigraph(work / "o-inc", free_port())
    remote.start()
    base = f"http://127.0.0.1:{remote.port}"
    targets = (("Virtuoso 7.2.5", {"endpoint": virtuoso.gsp, "auth": virtuoso.auth, "query_endpoint": virtuoso.sparql},
                virtuoso.base + "/sparql-auth"),
               ("oxigraph serve 0.5", {"endpoint": base + "/store", "query_endpoint": remote.query}, base + "/update"))
    try:
        for name, kwargs, update in targets:   # not timed_push: it forgets the other target's journals
            push(settings, per_source=True, **kwargs)  # type: ignore[arg-type]
        for mode in ("union difference (--update-endpoint)", "union replaced whole (no update endpoint)"):
            reword_one(settings)
            for name, kwargs, update in targets:
                began = time.monotonic()
                extra = {"update_endpoint": update} if mode.startswith("union difference") else {}
                result = push(settings, per_source=True, **kwargs, **extra)  # type: ignore[arg-type]
                print(f"| synthetic {args.articles} articles | {name} | one article changed, {mode} | "
                      f"{result.sent} | {result.requests} | {time.monotonic() - began:.2f} |", flush=True)
    finally:
        virtuoso.stop()
        remote.stop()


def run(args: argparse.Namespace, work: Path) -> None:
    if args.incremental:
        incremental(args, work)
        return
    starts = []
    for n in range(args.starts):
        server = start_virtuoso(work / f"startup-{n}")
        starts.append(server.startup_s)
        server.stop()
    print(f"Virtuoso start-up (fresh database, user, grant, probe): median {statistics.median(starts):.2f} s, "
          f"min {min(starts):.2f}, max {max(starts):.2f} over {len(starts)}")
    bundled = Settings(out_dir=work / "bundled")
    build(bundled)
    generate(work / "synth", args.articles, seed=1)
    synth = Settings(data_dir=work / "synth", out_dir=work / "synth-build")
    build(synth)
    print("| data | server | mode | triples verified | requests | seconds |\n| --- | --- | --- | --- | --- | --- |")
    for label, settings in (("bundled", bundled), (f"synthetic {args.articles} articles", synth)):
        for mode in ("per source", "union"):
            extra = {"per_source": True} if mode == "per source" else {"graph": "https://example.org/graph/union"}
            virtuoso = start_virtuoso(work / f"v-{label[:3]}-{mode[:3]}")
            try:
                seconds, triples, requests = timed_push(settings, endpoint=virtuoso.gsp, auth=virtuoso.auth,
                                                        query_endpoint=virtuoso.sparql, **extra)
            finally:
                virtuoso.stop()
            print(f"| {label} | Virtuoso 7.2.5 | {mode} | {triples} | {requests} | {seconds:.2f} |")
            remote = Oxigraph(work / f"o-{label[:3]}-{mode[:3]}", free_port())
            remote.start()
            try:
                base = f"http://127.0.0.1:{remote.port}"
                seconds, triples, requests = timed_push(settings, endpoint=base + "/store",
                                                        query_endpoint=remote.query, **extra)
            finally:
                remote.stop()
            print(f"| {label} | oxigraph serve 0.5 | {mode} | {triples} | {requests} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
