"""create_app and its access log (server/app.py), against a real `tieslod serve` (moved from
test_sparql.py, issue 12)."""
from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def server(tieslod_serve, real_settings):
    return tieslod_serve("--out", str(real_settings.out_dir))


def get(server, query: str) -> httpx.Response:
    return httpx.get(server.sparql, params={"query": query}, timeout=30)


def test_access_log_has_method_path_status_duration(server):
    get(server, "ASK {}")
    lines = [line for line in server.log().splitlines() if "tieslod.access" in line]
    assert any('"GET /sparql" 200' in line and line.endswith(" ms") for line in lines)
