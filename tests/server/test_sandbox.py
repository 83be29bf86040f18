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
