"""Content-Security-Policy on every HTML answer (issue 11 item 7): scripts, styles, fonts and
connections only from this origin, no inline script, no plugins, no framing. The pages, the query
UI (YASGUI) and its static files satisfy it (tests/test_browser.py listens for violations).

The one allowance is two exact stylesheets, by hash: the column resizer inside YASGUI's results table
adds a <style> element with fixed text (and another while a column is dragged). A hash admits those
texts only; tests/test_csp.py recomputes both from the vendored bundle, so an update that changes them
fails there rather than in a browser."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# sha256 of column-resizer's two stylesheets (in static/yasgui/yasgui.min.js: createStyle calls)
YASGUI_STYLE_HASHES = ("zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=", "c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=")
POLICY = ("default-src 'none'; script-src 'self'; "
          "style-src 'self' " + " ".join(f"'sha256-{h}'" for h in YASGUI_STYLE_HASHES) + "; "
          "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
          "base-uri 'none'; frame-ancestors 'none'")


class ContentSecurityPolicy:
    """Adds the policy (and nosniff) to text/html responses; pure ASGI, so bodies stream through."""

    def __init__(self, app: ASGIApp, policy: str = POLICY) -> None:
        self.app, self.policy = app, policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                own = any(k.lower() == b"content-security-policy" for k, _ in headers)   # a route's own wins
                if media.startswith(b"text/html") and not own:
                    headers += [(b"content-security-policy", self.policy), (b"x-content-type-options", b"nosniff")]
                    message = {**message, "headers": headers}
            await send(message)
        await self.app(scope, receive, with_policy)
