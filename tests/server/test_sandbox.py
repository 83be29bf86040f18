"""No network where queries run (server/sandbox.py): a real query worker cannot connect (moved from
tests/querying/test_policy.py, issue 12)."""
from __future__ import annotations

import asyncio
import errno
import time
from pathlib import Path

import psutil

from _listener import listening
from tieslod.server.sandbox import connect_errno
from tieslod.server.workers import QueryWorkers


def test_a_query_worker_cannot_connect_even_to_loopback(real_build):
    async def body() -> tuple[int, list]:
        pool = QueryWorkers(1, 10, 1_000_000)
        await pool.start(Path(real_build.release_dir))   # each worker's start-up self-check passed
        try:
            (_, code), _ = await pool.call(("connect", "127.0.0.1", listener.port))
            (_, worker), _ = await pool.call(("pid",))
            inet = psutil.Process(worker).net_connections(kind="inet")
            return code, inet
        finally:
            pool.stop()

    with listening() as listener:
        code, inet = asyncio.run(body())
        time.sleep(0.2)
        assert code in (errno.EPERM, errno.EACCES)
        assert listener.connections == 0
    assert inet == []   # and it holds no inherited network socket either
    # the same call from this (unsandboxed) process does connect: the probe can tell
    with listening() as listener:
        assert connect_errno("127.0.0.1", listener.port) == 0
