"""Headers added to answers on their way out: Retry-After on every 503 and 429 that has none
(issue 14: a client must know when to come back), and a Content-Security-Policy on every HTML
answer (issue 11 item 7).

The policy: scripts, styles, fonts and
connections only from this origin, no inline script, no plugins, no framing. The pages, the query
UI (YASGUI) and its static files satisfy it (tests/test_browser.py listens for violations).

The one allowance is two exact stylesheets, by hash: the column resizer inside YASGUI's results table
adds a <style> element with fixed text (and another while a column is dragged). A hash admits those
texts only; tests/test_queryui.py recomputes both from the vendored bundle, so an update that changes them
fails there rather than in a browser."""
from __future__ import annotations

import math

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# sha256 of column-resizer's two stylesheets (in static/yasgui/yasgui.min.js: createStyle calls)
YASGUI_STYLE_HASHES = ("zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=", "c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=")
POLICY = ("default-src 'none'; script-src 'self'; "
          "style-src 'self' " + " ".join(f"'sha256-{h}'" for h in YASGUI_STYLE_HASHES) + "; "
          "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
          "base-uri 'none'; frame-ancestors 'none'")


class ResponseHeaders:
    """Adds the policy (and nosniff) to text/html answers and Retry-After to 503/429 answers;
    pure ASGI, so bodies stream through. `retry_after`: seconds (the query deadline is a fair wait)."""

    def __init__(self, app: ASGIApp, retry_after: float = 10.0, policy: str = POLICY) -> None:
        self.app, self.policy = app, policy.encode()
        self.retry_after = str(max(1, math.ceil(retry_after))).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                names = {k.lower() for k, _ in headers}
                if media.startswith(b"text/html") and b"content-security-policy" not in names:   # a route's own wins
                    headers += [(b"content-security-policy", self.policy), (b"x-content-type-options", b"nosniff")]
                if message["status"] in (429, 503) and b"retry-after" not in names:
                    headers.append((b"retry-after", self.retry_after))
                message = {**message, "headers": headers}
            await send(message)
        await self.app(scope, receive, with_policy)
