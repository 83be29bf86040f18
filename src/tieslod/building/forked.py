"""Run one build step in a forked child process, beside the main thread.

A build's main thread is pure Python and holds the GIL: a second thread would not run beside it,
but a forked child does, on the other core. A fork inherits the step's inputs (chunk metadata for
2,500 articles at 1M quads) without pickling them; only the result comes back, through a pipe.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

from ..errors import InternalError
from .lifetime import die_with_parent

T = TypeVar("T")


def _child(parent: int, send: Connection, func: Callable[..., object], args: tuple) -> None:
    die_with_parent(parent)
    try:
        result = (True, func(*args))
    except BaseException as exc:   # handed to the parent, which raises it
        result = (False, exc)
    send.send(result)
    send.close()


class Forked(Generic[T]):
    """func(*args) running in a forked child; result() waits for it and returns or raises what it did.
    Leaving the `with` block without a result kills the child (the build failed elsewhere)."""

    def __init__(self, func: Callable[..., T], *args: object) -> None:
        context = multiprocessing.get_context("fork")
        self._recv, send = context.Pipe(duplex=False)
        self._proc = context.Process(target=_child, args=(os.getpid(), send, func, args), daemon=True)
        self._proc.start()
        send.close()

    def result(self) -> T:
        try:
            ok, value = self._recv.recv()
        except EOFError:
            self._proc.join()
            raise InternalError(f"a build process died (exit code {self._proc.exitcode})") from None
        finally:
            self._recv.close()
        self._proc.join()
        if not ok:
            raise value
        return value

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
