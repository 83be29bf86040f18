"""A killed build never wedges the next (issue 11, item 2): its workers die with it, its lock is
not inherited by them, and a build waiting for the lock says whose it is."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil
import pytest

from synthetic import generate
from tieslod.building.pipeline import POOL_CONTEXT
from tieslod.building.release import locked

CLI = [sys.executable, "-m", "tieslod.cli"]


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~240k quads: a build of ~5 s with two chunk workers for most of it (this machine)."""
    data = tmp_path_factory.mktemp("big") / "data"
    generate(data, 600, seed=3)
    return data


def _wait_for(condition, seconds: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


@pytest.mark.slow
def test_kill_9_mid_build_leaves_no_workers_and_the_next_build_finishes(big_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    proc = subprocess.Popen([*CLI, "build", "--data", str(big_corpus), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    # the two chunk workers (and multiprocessing's resource tracker)
    assert _wait_for(lambda: len(parent.children()) >= 3, 30), "the build never started its workers"
    workers = parent.children(recursive=True)
    assert (out / ".lock").read_text().strip() == str(proc.pid), "the lock file names its holder"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=5)
    for orphan in alive:        # clean up before failing, so a broken build does not leave them
        orphan.kill()
    assert not alive, f"workers outlived the killed build: {[p.pid for p in alive]}"
    again = subprocess.run([*CLI, "build", "--data", str(big_corpus), "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert (out / "current" / "manifest.json").is_file()
    assert "waiting for the lock" not in again.stderr


def _lock_descriptors(lock: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(lock):
                found.append(fd)
        except OSError:
            pass
    return found


def test_a_build_worker_does_not_hold_the_lock(tmp_path: Path) -> None:
    with locked(tmp_path):
        assert _lock_descriptors(tmp_path / ".lock"), "the holder has it open"
        with ProcessPoolExecutor(1, mp_context=POOL_CONTEXT) as pool:
            assert pool.submit(_lock_descriptors, tmp_path / ".lock").result() == []


def test_build_pools_spawn_their_workers() -> None:
    """Not forked beside the build's threads, whatever the Python version's default."""
    assert POOL_CONTEXT.get_start_method() == "spawn"


def test_a_waiting_build_names_the_lock_holder(tmp_path: Path) -> None:
    out = tmp_path / "build"
    lines: queue.Queue[str] = queue.Queue()
    with locked(out):
        proc = subprocess.Popen([*CLI, "build", "--out", str(out)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
        first = lines.get(timeout=60)
        assert first.strip() == f"tieslod: waiting for the lock on {out / '.lock'}, held by PID {os.getpid()}"
        time.sleep(0.5)
        assert proc.poll() is None, "it waits while the lock is held"
    assert proc.wait(timeout=120) == 0
