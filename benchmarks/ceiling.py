"""How far any Python front on pyoxigraph can get (issue 13): `oxigraph serve-read-only`, `tieslod serve`,
and the bare in-process server of benchmarks/ceiling_app.py (granian RSGI and ASGI, 2 processes each),
all up at once on the bundled store and sent the same distinct queries of benchmarks/serve.py, one
server after the other per cell (wrk c=8).

    python benchmarks/ceiling.py [--seconds 4] [--rounds 2] [--work DIR]

The bare server has no deadline, no policy, no limits and no log: what it reaches bounds every design
that keeps them, so a ratio target above it cannot be met by moving work around in Python."""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve
from tieslod.building.release import build
from tieslod.config import Settings


@contextlib.contextmanager
def bare(interface: str, store: Path) -> Iterator[str]:
    port = serve.free_port()
    env = {**os.environ, "CEILING_STORE": str(store), "PYTHONPATH": str(Path(__file__).resolve().parent)}
    proc = subprocess.Popen([sys.executable, "-m", "granian", "--interface", interface, "--workers", "2",
                             "--host", "127.0.0.1", "--port", str(port), "--no-ws", f"ceiling_app:{interface}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        serve.wait_up(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tieslod-ceiling")
    args = parser.parse_args()
    settings = Settings(out_dir=args.work / "real")
    build(settings)
    store = (settings.out_dir / "current" / "store").resolve()
    ents = serve.entities(settings, 50)
    print("| round | query (c=8) | oxigraph serve-read-only | tieslod serve | bare in-process, granian RSGI "
          "| bare in-process, granian ASGI | load avg |\n| --- | --- | --- | --- | --- | --- | --- |")
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        log = args.work / "servers.log"
        servers = {"oxigraph": stack.enter_context(serve.server("oxigraph", settings, log))[0],
                   "tieslod": stack.enter_context(serve.server("tieslod", settings, log))[0],
                   "rsgi": stack.enter_context(bare("rsgi", store)),
                   "asgi": stack.enter_context(bare("asgi", store))}
        for n in range(args.rounds):
            for k, (name, (query, accept)) in enumerate(serve.QUERIES.items()):
                texts = serve.texts(query, ents, int(30_000 * args.seconds), start=(n * 10 + k) * 10_000_000)
                got = {v: serve.wrk(url, texts, accept, 8, args.seconds, Path(tmp)) for v, url in servers.items()}
                base = got["oxigraph"]["rps"]
                cells = [f"{got['oxigraph']['rps']:,.0f}"] + [f"{got[v]['rps']:,.0f} ({got[v]['rps'] / base:.2f}x)"
                                                           for v in ("tieslod", "rsgi", "asgi")]
                bad = sum(g["non2xx"] + g["errors"] for g in got.values())
                load = max(g["load"] for g in got.values())
                print(f"| {n + 1} | {name} | " + " | ".join(cells) + f" | {load:.1f} |" + (f" ({bad} failed)" if bad else ""),
                      flush=True)


if __name__ == "__main__":
    main()
