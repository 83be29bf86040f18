"""Build benchmark: full and incremental `tieslod build` on synthetic corpora against the floor.

    python benchmarks/build.py --sizes 10000 100000 1000000 [--baseline REV] [--write]

Per size: generate the corpus (benchmarks/synth.py); for each code measured (with --baseline REV, the
code at REV checked out into a temporary git worktree and run with its PYTHONPATH, then this tree's),
run a cold full build (empty cache) in a child process while sampling the memory of it and its
workers (peak), read the stage times from the release manifest, change one article, time the
incremental rebuild, and compare its SHA256SUMS with a full build of the changed data by the same code.
Then measure the floor in the same run: `oxigraph load` of the same N-Quads into a fresh store plus
pyoxigraph serialising each dump format. `--write` puts the table into BENCHMARKS.md between the
build markers.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from synthetic import articles_for, generate  # noqa: E402

START, END = "<!-- build:start -->", "<!-- build:end -->"
BUILD = "import sys; from pathlib import Path; from tieslod.building.release import build; from tieslod.config import Settings; " \
        "r = build(Settings(data_dir=Path(sys.argv[1]), out_dir=Path(sys.argv[2])), force=True); print(r.release_dir)"


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """(wall seconds, peak RSS and peak PSS of the process tree in MB, stdout).

    RSS counts a page in every process that maps it, so pages a forked worker shares copy-on-write
    with the build count twice; PSS (proportional set size) counts a page shared by n processes 1/n
    in each, so its sum over the tree is the memory the tree really holds. Both are reported."""
    began = time.monotonic()
    errors = tempfile.TemporaryFile("w+")
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        try:
            procs = [p for p in [proc, *proc.children(recursive=True)] if p.is_running()]
            peak_rss = max(peak_rss, sum(p.memory_info().rss for p in procs))
            peak_pss = max(peak_pss, sum(p.memory_full_info().pss for p in procs))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        errors.seek(0)
        raise RuntimeError(f"{cmd} failed with {proc.returncode}:\n{errors.read()[-4000:]}")
    return time.monotonic() - began, peak_rss / 1e6, peak_pss / 1e6, out


def floor(nquads: Path, work: Path) -> dict[str, float]:
    cli = Path(sys.executable).with_name("oxigraph")
    load, load_mb, _pss, _ = run_measured([str(cli), "load", "--location", str(work / "floor-store"), "--file", str(nquads)])
    quads = list(ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS))
    triples = list({ox.Triple(q.subject, q.predicate, q.object) for q in quads})
    out = {"oxigraph load": load, "oxigraph load MB": load_mb}
    for name, fmt, data in (("turtle", ox.RdfFormat.TURTLE, triples), ("ntriples", ox.RdfFormat.N_TRIPLES, triples),
                            ("nquads", ox.RdfFormat.N_QUADS, quads), ("trig", ox.RdfFormat.TRIG, quads),
                            ("jsonld (expanded)", ox.RdfFormat.JSON_LD, quads)):
        began = time.monotonic()
        ox.serialize(data, format=fmt)
        out[f"serialize {name}"] = time.monotonic() - began
    out["floor"] = load + sum(v for k, v in out.items() if k.startswith("serialize"))
    return out


def _change_one_article(data: Path) -> None:
    articles = sorted((data / "articles").glob("*.ttl"))
    article = articles[len(articles) // 2]
    article.write_text(article.read_text(encoding="utf-8").replace("tl:Denies", "tl:Asserts", 1), encoding="utf-8")


def _sums(release: Path) -> str:
    return (release / "dumps" / "SHA256SUMS").read_text(encoding="utf-8")


def one_code(label: str, src: Path, corpus: Path, work: Path) -> dict:
    """A cold full build and a one-article rebuild of `corpus` by the code under `src`."""
    data, out = work / f"data-{label}", work / f"out-{label}"
    shutil.copytree(corpus, data)
    env = {**os.environ, "PYTHONPATH": str(src)}
    load = os.getloadavg()[0]
    wall, peak, pss, release = run_measured([sys.executable, "-c", BUILD, str(data), str(out)], env)
    manifest = json.loads((Path(release.strip()) / "manifest.json").read_text())
    result = {"code": label, "quads": manifest["counts"]["quads"], "full": wall, "full MB": peak, "full PSS MB": pss,
              "full load": load, "stages": manifest["build"]["stages"], "release": release.strip()}
    _change_one_article(data)
    load = os.getloadavg()[0]
    wall, peak, pss, release = run_measured([sys.executable, "-c", BUILD.replace("force=True", "force=False"),
                                             str(data), str(out)], env)
    manifest = json.loads((Path(release.strip()) / "manifest.json").read_text())
    result.update({"incremental": wall, "incremental MB": peak, "incremental PSS MB": pss, "inc load": load,
                   "inc stages": manifest["build"]["stages"], "inc store": manifest["build"]["store"],
                   "inc remade": manifest["build"]["remade"], "inc sums": _sums(Path(release.strip()))})
    # the rebuild's dumps against a full build of the changed data by the same code
    _wall, _peak, _pss, full = run_measured([sys.executable, "-c", BUILD, str(data), str(work / f"full-{label}")], env)
    result["identical"] = _sums(Path(full.strip())) == result["inc sums"]
    return result


def one_size(triples: int, work: Path, codes: list[tuple[str, Path]]) -> list[dict]:
    corpus = work / "corpus"
    generate(corpus, articles_for(triples), seed=1)
    results = [one_code(label, src, corpus, work) for label, src in codes]
    load = os.getloadavg()[0]
    base = floor(Path(results[-1]["release"]) / "dumps" / "tieslod.nq", work)
    for r in results:
        r.update(base, floor_load=load)
    return results


STAGES = ("read", "chunks", "dump tieslod.nq", "claims", "store", "dumps", "validate", "describe")


def table(results: list[dict]) -> str:
    """Full builds, then incremental rebuilds, one row per size and code, a column per stage (seconds)."""
    head = " | ".join(STAGES)
    rows = [f"| quads | code | full build (load avg) | peak MB (PSS / RSS) | {head} | floor (load + serialize) | ratio |",
            "|" + " --- |" * (len(STAGES) + 6)]
    for r in results:
        cells = [f"{r['quads']:,}", r["code"], f"{r['full']:.1f} s ({r['full load']:.1f})",
                 f"{r['full PSS MB']:.0f} / {r['full MB']:.0f}",
                 *(f"{r['stages'].get(s, 0):.1f}" for s in STAGES),
                 f"{r['floor']:.1f} s ({r['oxigraph load']:.1f} + {r['floor'] - r['oxigraph load']:.1f}; "
                 f"load avg {r['floor_load']:.1f})",
                 f"{r['full'] / r['floor']:.2f}x"]
        rows.append("| " + " | ".join(cells) + " |")
    rows += ["", f"| quads | code | rebuild, one article changed (load avg) | peak MB (PSS / RSS) | {head} | store | "
             "same bytes as a full build |", "|" + " --- |" * (len(STAGES) + 6)]
    for r in results:
        cells = [f"{r['quads']:,}", r["code"], f"{r['incremental']:.2f} s ({r['inc load']:.1f})",
                 f"{r['incremental PSS MB']:.0f} / {r['incremental MB']:.0f}",
                 *(f"{r['inc stages'].get(s, 0):.2f}" for s in STAGES),
                 f"{r['inc store']}, {r['inc remade']} chunk(s) remade", "yes" if r["identical"] else "**no**"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def write_markdown(text: str, command: str, note: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    body = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    section = (f"{START}\n## Build (issues 5, 12)\n\nReproduce: `{command}` (2-core machine; `baseline` is the "
               f"code at the revision given, checked out into a temporary git worktree and run with its own "
               f"PYTHONPATH, `new` this tree, on the same corpus in the same run; wall times include process "
               f"start-up; the load average (1 min) when each run started is in brackets; peak MB is summed "
               f"over the build and its worker processes, sampled every 50 ms, as PSS (a page shared by n "
               f"processes counts 1/n in each) and as RSS; stage columns in seconds; stages run in threads "
               f"overlap).{note}\n\n{text}\n{END}")
    if START in body and END in body:
        body = body[:body.index(START)] + section + body[body.index(END) + len(END):]
    else:
        body = body.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(body, encoding="utf-8")


def baseline_tree(rev: str, work: Path) -> Path:
    """The code at `rev`, checked out into a temporary worktree (removed by the caller)."""
    tree = work / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                   check=True, capture_output=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--baseline", metavar="REV", help="also measure the code at this git revision")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--note", default="", help="a sentence added to the BENCHMARKS.md section")
    args = parser.parse_args()
    # a terminated run still removes its temporary worktree and corpora (the finally blocks below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    results = []
    with tempfile.TemporaryDirectory(prefix="tieslod-bench-") as top:
        codes = [("new", ROOT / "src")]
        tree = None
        if args.baseline:
            tree = baseline_tree(args.baseline, Path(top))
            codes.insert(0, (f"baseline {args.baseline}", tree / "src"))
        try:
            for size in args.sizes:
                work = Path(top) / f"size-{size}"
                work.mkdir()
                results += one_size(size, work, codes)
                print(json.dumps(results[-len(codes):], indent=1, default=str), flush=True)
                shutil.rmtree(work, ignore_errors=True)
        finally:
            if tree is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    text = table(results)
    print(text)
    if args.write:
        command = "python benchmarks/build.py --sizes " + " ".join(str(s) for s in args.sizes)
        command += f" --baseline {args.baseline}" if args.baseline else ""
        write_markdown(text, command + " --write", f" {args.note}" if args.note else "")


if __name__ == "__main__":
    main()
