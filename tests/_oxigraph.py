"""A real `oxigraph serve` (the Rust server from PyPI's oxigraph) for the tests, on a loopback port."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

OXIGRAPH = Path(sys.executable).with_name("oxigraph")


def freeze(pid: int, wait: float = 5.0) -> None:
    """SIGSTOP a server and return once every thread of it is stopped. kill() only queues the signal;
    a clean-clone run (2026-12-01) had the "frozen" Oxigraph answer the first query sent right after
    it, so the tests wait for the state they need instead of assuming it."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + wait
    states: list[str] = []
    while time.monotonic() < deadline:
        states = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:   # "tid (comm) S ...": the state follows the last parenthesis (comm may hold any)
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
            except (OSError, IndexError):
                continue   # a thread that ended meanwhile
        if states and all(state in "tT" for state in states):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop within {wait} s (thread states {states})")


@dataclass
class Oxigraph:
    """`oxigraph serve` that can be stopped, frozen and started again on the same port and store."""

    location: Path
    port: int
    proc: subprocess.Popen | None = None

    @property
    def query(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    def start(self) -> None:
        self.proc = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(self.location),
                                      "--bind", f"127.0.0.1:{self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                httpx.get(self.query, params={"query": "ASK {}"}, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("oxigraph serve did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(10)
