"""The build lock, and a build's child processes: they die with it and never hold its lock.

A `kill -9` runs no cleanup in the build, so its forked workers must not depend on one: Linux's
PR_SET_PDEATHSIG has the kernel send each worker SIGKILL when the build dies. prctl is called
through ctypes: the PyPI bindings are unmaintained (python-prctl, last release 2020, compiles
against libcap headers; prctl, 2010) or are themselves ctypes wrappers (pyprctl), and the call is
one libc function taking integers. (A pipe each worker watches would need a thread per worker.)

The lock (locked, below) is an flock, which belongs to the open file: a forked child shares it, and
O_CLOEXEC only helps across exec. So every lock descriptor is closed in a forked child
(os.register_at_fork), and only the process that took the lock holds it.
"""
from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

PR_SET_PDEATHSIG = 1          # <linux/prctl.h>
# Process state, not configuration: the lock descriptors this process holds, so that a forked child
# (which inherits them) can close them and never keep the build lock alive after its parent died.
_HELD: set[int] = set()


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive flock on directory/.lock: one build per output directory, one release per archive
    (versions.py), and a second process waits rather than interleaving its writes. The holder's PID is
    written into the file, so a waiting build can say whom it waits for; the descriptor is not
    inherited by child processes (below), so a killed build's workers cannot keep the lock."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    hold(fd)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            print(f"tieslod: waiting for the lock on {path}, held by PID {holder}", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        release(fd)
        os.close(fd)


def die_with_parent(parent: int) -> None:
    """First thing in a forked build worker: SIGKILL when `parent` dies. (The signal follows the
    thread that forked; build workers are started from the build's main thread.)"""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:      # the parent died before the signal was asked for
        os._exit(1)


def hold(fd: int) -> None:
    _HELD.add(fd)


def release(fd: int) -> None:
    _HELD.discard(fd)


def _close_held() -> None:
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held)
