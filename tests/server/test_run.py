"""`tieslod serve` as a command: builds when there is no build, prints its URL, stops on Ctrl-C
leaving no worker behind, and refuses bad options with exit 2 and one line."""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import httpx
import psutil
import pytest


def tieslod(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tieslod.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("http_workers", ["1", "2"])
def test_serve_builds_prints_its_url_and_stops_on_ctrl_c(tieslod_serve, mini_data, tmp_path, http_workers):
    out = tmp_path / "fresh-build"
    server = tieslod_serve("--data", str(mini_data), "--out", str(out), "--workers", "2", "--http-workers", http_workers)
    assert (out / "current" / "store").is_dir()          # it built first
    assert re.search(r"serving release \w+ at " + re.escape(server.url), server.log())
    answer = httpx.get(server.sparql, params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 0
    tree = psutil.Process(server.proc.pid).children(recursive=True)
    assert len(tree) >= 3                                 # forkserver, resource tracker, workers
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=15) == 0
    _gone, alive = psutil.wait_procs(tree, timeout=10)
    assert alive == [], [p.cmdline() for p in alive]
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "--workers must be at least 1"),
    (["--timeout", "-1"], "--timeout must be positive"),
    (["--port", "70000"], "--port must be between 0 and 65535"),
    (["--base-uri", "ftp://x/"], "--base-uri must be an http(s) URI"),
    (["--cache-mb", "-1"], "--cache-mb cannot be negative"),
    (["--http-workers", "0"], "--http-workers must be at least 1"),
    (["--sparql-endpoint", "ftp://db/sparql"], "--sparql-endpoint must be an http(s) URL"),
    (["--sparql-auth", "a:b"], "--sparql-auth needs --sparql-endpoint"),
    (["--sparql-endpoint", "http://127.0.0.1:9/sparql", "--sparql-auth", "nocolon"], "--sparql-auth must be user:password"),
    (["--sparql-endpoint", "http://127.0.0.1:9/sparql", "--sparql-timeout", "0"], "--sparql-timeout must be positive"),
    (["--sparql-endpoint", "http://127.0.0.1:9/sparql", "--sparql-connections", "0"], "--sparql-connections must be at least 1"),
])
def test_bad_options_exit_2_with_one_line(args, message, real_settings):
    result = tieslod("serve", "--out", str(real_settings.out_dir), *args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1
    assert lines[0].startswith("tieslod: error: " + message)


def test_busy_port_is_a_usage_error(real_settings):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = tieslod("serve", "--out", str(real_settings.out_dir), "--port", str(port))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1
    assert lines[0].startswith(f"tieslod: error: cannot listen on 127.0.0.1:{port}")
