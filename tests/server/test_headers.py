"""Headers on the way out (server/headers.py): Retry-After on every 503 and 429 (moved from
tests/test_machine.py, issue 12)."""
from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tieslod.server.headers import ResponseHeaders


def test_retry_after_on_every_503_and_429() -> None:
    """The middleware on a real ASGI app through httpx (429 comes from the query budget, 503 from
    deadlines and a busy pool; a route's own Retry-After is kept)."""
    async def busy(request):
        return PlainTextResponse("busy", status_code=int(request.query_params["status"]))

    async def own(request):
        return PlainTextResponse("later", status_code=503, headers={"Retry-After": "120"})

    app = ResponseHeaders(Starlette(routes=[Route("/busy", busy), Route("/own", own)]), retry_after=2.5)

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return [await client.get(p) for p in ("/busy?status=503", "/busy?status=429", "/busy?status=500", "/own")]
    import asyncio
    r503, r429, r500, kept = asyncio.run(run())
    assert (r503.headers["retry-after"], r429.headers["retry-after"]) == ("3", "3")
    assert "retry-after" not in r500.headers and kept.headers["retry-after"] == "120"


def test_a_query_past_its_deadline_says_when_to_retry(tieslod_serve, mini_data, tmp_path) -> None:
    server = tieslod_serve("--data", str(mini_data), "--out", str(tmp_path / "b"), "--timeout", "1")
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    response = httpx.get(server.sparql, params={"query": endless}, timeout=30)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
