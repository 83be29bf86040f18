"""Shared fixtures. Area-specific fixtures live in the test modules that use them."""
from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tieslod.building.release import BuildResult, build
from tieslod.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture()
def mini_data(tmp_path: Path) -> Path:
    """A private copy of the tiny fixture dataset (one article, four entities) to modify freely."""
    target = tmp_path / "data"
    shutil.copytree(TEST_DATA / "mini", target)
    return target


@pytest.fixture()
def mini_settings(mini_data: Path, tmp_path: Path) -> Settings:
    return Settings(data_dir=mini_data, out_dir=tmp_path / "build")


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The bundled dataset, built once per test session into a temporary directory."""
    out = tmp_path_factory.mktemp("real-build")
    return build(Settings(out_dir=out))


@pytest.fixture(scope="session")
def real_settings(real_build: BuildResult) -> Settings:
    return Settings(out_dir=real_build.release_dir.parent.parent)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`tieslod serve` running in a subprocess on a free loopback port (see tieslod_serve)."""

    def __init__(self, proc, url: str, log) -> None:
        self.proc, self.url, self._log = proc, url, log
        self.sparql = url + "sparql"

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def wait_for(self, text: str, timeout: float = 5.0) -> bool:
        """Whether `text` appears in the log within `timeout` s (access lines come in batches, at
        most 0.5 s late: server/run.py's BatchedStderr)."""
        import time
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


@pytest.fixture(scope="module")
def tieslod_serve():
    """Start `tieslod serve ARGS...` (with --port added) and wait until /sparql answers; each is
    stopped with SIGINT (as Ctrl-C would) at the end of the module. Usage: server = tieslod_serve(*args)."""
    import sys
    import tempfile
    import time

    import httpx

    started: list[subprocess.Popen] = []

    def start(*args: str, timeout: float = 120.0) -> ServerProcess:
        port = free_port()
        # a file, not a pipe: the access log would fill a pipe and block; closed by ServerProcess
        log = tempfile.TemporaryFile()  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "tieslod.cli", "serve", "--port", str(port), *args],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        server = ServerProcess(proc, f"http://127.0.0.1:{port}/", log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("tieslod serve exited early:\n" + server.log())
            try:
                if httpx.get(server.sparql, timeout=5).status_code == 200:
                    return server
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("tieslod serve did not answer in time:\n" + server.log())

    yield start
    for proc in started:
        stop_process(proc, 15)


def stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGINT (a clean shutdown), then SIGKILL if the process has not exited within `timeout` s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ real servers for pages and browser tests
@pytest.fixture(scope="session")
def real_site(real_settings: Settings) -> Iterator[str]:
    """A real server (uvicorn, create_app) on a loopback port over the bundled dataset."""
    from _ldserver import running_server  # imported here: _ldserver imports this module
    with running_server({"out_dir": real_settings.out_dir}) as origin:
        yield origin


@pytest.fixture(scope="session")
def mini_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over the mini dataset plus a renamed URI, a withdrawn one and a script-tag label."""
    from _ldserver import make_mini_site, running_server
    from tieslod.api import release_store as store_of
    from tieslod.validation.ledger import update
    root = tmp_path_factory.mktemp("mini-site")
    data = root / "data"
    shutil.copytree(TEST_DATA / "mini", data)
    make_mini_site(data)
    settings = Settings(data_dir=data, out_dir=root / "build")
    update(store_of(settings), settings)
    (data / "uris.txt").write_text((data / "uris.txt").read_text() + "id/dave\nid/acme-corporation\n")
    build(settings)
    with running_server({"data_dir": data, "out_dir": root / "build"}) as origin:
        yield origin


# ------------------------------------------------------------------ a real Virtuoso (tests/_virtuoso.py)
@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory):
    """One Virtuoso per session (start-up is seconds); skips with the reason where it is not installed."""
    from _virtuoso import ISQL, MISSING, VIRTUOSO, start_virtuoso
    if not (VIRTUOSO and ISQL):
        pytest.skip(MISSING)
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    yield server
    server.stop()


@pytest.fixture()
def virtuoso(virtuoso_server):
    """The session's Virtuoso with no graph but its own system graphs."""
    virtuoso_server.reset()
    return virtuoso_server


@pytest.fixture()
def two_releases(mini_settings: Settings):
    """The mini dataset released twice: its first and its second edition (tests/_editions.py)."""
    from _editions import WHEN, second_edition
    from tieslod.publishing.versions import release
    first = release(mini_settings, name="first", now=WHEN)
    second_edition(mini_settings.data_dir)
    second = release(mini_settings, name="second", now=WHEN.replace(month=2))
    return mini_settings, first, second


@pytest.fixture(scope="module")
def manifest(real_build) -> dict:
    return json.loads((real_build.release_dir / "manifest.json").read_text())
