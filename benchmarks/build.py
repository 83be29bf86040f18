"""Build benchmark: full and incremental `tieslod build` on synthetic corpora against the floor.

    /work/venv/bin/python benchmarks/build.py --sizes 10000 100000 1000000 [--write]

Per size: generate the corpus (benchmarks/synth.py), run a cold full build (empty cache) in a child
process while sampling the RSS of it and its workers (peak memory), read the stage times from the
release manifest, then measure the floor in the same run: `oxigraph load` of the same N-Quads into a
fresh store plus pyoxigraph serialising each dump format. Then change one article and time the
incremental rebuild. `--write` puts the table into BENCHMARKS.md between the build markers.
"""
from __future__ import annotations

import argparse
import json
import shutil
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


def run_measured(cmd: list[str]) -> tuple[float, float, float, str]:
    """(wall seconds, peak RSS and peak PSS of the process tree in MB, stdout).

    RSS counts a page in every process that maps it, so pages a forked worker shares copy-on-write
    with the build count twice; PSS (proportional set size) counts a page shared by n processes 1/n
    in each, so its sum over the tree is the memory the tree really holds. Both are reported."""
    began = time.monotonic()
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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
        raise RuntimeError(f"{cmd} failed with {proc.returncode}")
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


def one_size(triples: int, work: Path) -> dict:
    data, out = work / "data", work / "out"
    generate(data, articles_for(triples), seed=1)
    wall, peak, pss, release = run_measured([sys.executable, "-c", BUILD, str(data), str(out)])
    manifest = json.loads((Path(release.strip()) / "manifest.json").read_text())
    result = {"target": triples, "quads": manifest["counts"]["quads"], "full": wall, "full MB": peak, "full PSS MB": pss,
              "stages": manifest["build"]["stages"]}
    result.update(floor(Path(release.strip()) / "dumps" / "tieslod.nq", work))
    article = sorted((data / "articles").glob("*.ttl"))[len(list((data / "articles").glob("*.ttl"))) // 2]
    article.write_text(article.read_text(encoding="utf-8").replace("tl:Denies", "tl:Asserts", 1), encoding="utf-8")
    wall, peak, pss, release = run_measured([sys.executable, "-c", BUILD.replace("force=True", "force=False"),
                                             str(data), str(out)])
    manifest = json.loads((Path(release.strip()) / "manifest.json").read_text())
    result.update({"incremental": wall, "incremental MB": peak, "incremental PSS MB": pss, "inc stages": manifest["build"]["stages"],
                   "inc store": manifest["build"]["store"], "inc remade": manifest["build"]["remade"]})
    return result


STAGES = ("read", "chunks", "dump tieslod.nq", "store", "dumps", "validate", "describe")


def table(results: list[dict]) -> str:
    """Full builds, then incremental rebuilds, one row per size, a column per stage (seconds)."""
    head = " | ".join(STAGES)
    rows = [f"| quads | full build | peak MB (PSS / RSS) | {head} | floor (load + serialize) | ratio |",
            "|" + " --- |" * (len(STAGES) + 5)]
    for r in results:
        cells = [f"{r['quads']:,}", f"{r['full']:.1f} s", f"{r['full PSS MB']:.0f} / {r['full MB']:.0f}",
                 *(f"{r['stages'].get(s, 0):.1f}" for s in STAGES),
                 f"{r['floor']:.1f} s ({r['oxigraph load']:.1f} + {r['floor'] - r['oxigraph load']:.1f})",
                 f"{r['full'] / r['floor']:.2f}x"]
        rows.append("| " + " | ".join(cells) + " |")
    rows += ["", f"| quads | incremental rebuild (one article changed) | peak MB (PSS / RSS) | {head} | store update |",
             "|" + " --- |" * (len(STAGES) + 4)]
    for r in results:
        cells = [f"{r['quads']:,}", f"{r['incremental']:.2f} s", f"{r['incremental PSS MB']:.0f} / {r['incremental MB']:.0f}",
                 *(f"{r['inc stages'].get(s, 0):.2f}" for s in STAGES),
                 f"{r['inc store']}, {r['inc remade']} chunk(s) remade"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def write_markdown(text: str, command: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    body = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    section = (f"{START}\n## Build (issue 5)\n\nReproduce: `{command}` (2-core machine; wall times include process "
               f"start-up; peak MB is summed over the build and its worker processes, sampled every 50 ms, as PSS "
               f"(a page shared by n processes counts 1/n in each: the memory the tree holds) and as RSS (pages "
               f"a forked worker shares with the build count twice); stage columns in seconds; the store loads "
               f"in a thread while the dumps are written, so those two columns overlap).\n\n{text}\n{END}")
    if START in body and END in body:
        body = body[:body.index(START)] + section + body[body.index(END) + len(END):]
    else:
        body = body.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="tieslod-bench-") as tmp:
            results.append(one_size(size, Path(tmp)))
            print(json.dumps(results[-1], indent=1), flush=True)
            shutil.rmtree(tmp, ignore_errors=True)
    text = table(results)
    print(text)
    if args.write:
        write_markdown(text, "/work/venv/bin/python benchmarks/build.py --sizes "
                       + " ".join(str(s) for s in args.sizes) + " --write")


if __name__ == "__main__":
    main()
