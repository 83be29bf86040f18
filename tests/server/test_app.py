"""create_app and its access log (server/app.py), against a real `tieslod serve` (moved from
test_sparql.py, issue 12)."""
from __future__ import annotations

import uuid

import httpx
import pytest


@pytest.fixture(scope="module")
def server(tieslod_serve, real_settings):
    return tieslod_serve("--out", str(real_settings.out_dir))


def get(server, query: str) -> httpx.Response:
    return httpx.get(server.sparql, params={"query": query}, timeout=30)


def test_access_log_has_method_path_status_duration(server):
    assert get(server, f"ASK {{}} # {uuid.uuid4()}").status_code == 200
    assert server.wait_for('"GET /sparql" 200')   # access lines are written in batches
    lines = [line for line in server.log().splitlines() if '"GET /sparql" 200' in line]
    assert all(line.endswith(" ms") and "tieslod.access" in line for line in lines)
