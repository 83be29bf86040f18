"""A build's child processes die with it and never hold its lock.

A `kill -9` runs no cleanup in the build, so its forked workers must not depend on one: Linux's
PR_SET_PDEATHSIG has the kernel send each worker SIGKILL when the build dies. prctl is called
through ctypes: the PyPI bindings are unmaintained (python-prctl, last release 2020, compiles
against libcap headers; prctl, 2010) or are themselves ctypes wrappers (pyprctl), and the call is
one libc function taking integers. (A pipe each worker watches would need a thread per worker.)

The lock (build.locked) is an flock, which belongs to the open file: a forked child shares it, and
O_CLOEXEC only helps across exec. So every lock descriptor is closed in a forked child
(os.register_at_fork), and only the process that took the lock holds it.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1          # <linux/prctl.h>
_HELD: set[int] = set()      # lock descriptors of this process


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
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held)
