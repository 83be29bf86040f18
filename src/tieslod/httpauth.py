"""`user:password` for a SPARQL or Graph Store endpoint, answered in whichever scheme the server asks for.

Servers differ: Virtuoso's /sparql-graph-crud-auth and /sparql-auth accept only Digest, Fuseki and most
reverse proxies Basic. The standard mechanism (RFC 9110, section 11) is the challenge: the first request
goes without credentials, the 401's WWW-Authenticate names the scheme, and the answer uses it. The
scheme is remembered, so later requests carry credentials at once (Digest reuses its nonce, httpx counts
it up), and a request body is sent at most twice, on the very first request only.
"""
from __future__ import annotations

from collections.abc import Generator

import httpx

from .errors import UsageError


def parse_credentials(value: str, option: str = "--auth") -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise UsageError(f"{option} must be user:password")
    return user, password


class ChallengeAuth(httpx.Auth):
    """Basic or Digest, as the server's challenge says; Digest preferred when both are offered."""

    def __init__(self, user: str, password: str) -> None:
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self.scheme: str | None = None   # "basic" or "digest" once a server has challenged

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        if self.scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        offered = {h.split(" ", 1)[0].lower() for h in response.headers.get_list("www-authenticate")}
        if "digest" in offered:
            self.scheme = "digest"
            flow = self._digest.auth_flow(request)
            next(flow)                               # no challenge known yet: the request as it was
            try:
                retry = flow.send(response)          # the same request, now with the digest answer
                yield retry
            except StopIteration:
                return
        elif "basic" in offered:
            self.scheme = "basic"
            yield next(self._basic.auth_flow(request))


def credentials_auth(value: str | None, option: str = "--auth") -> ChallengeAuth | None:
    return ChallengeAuth(*parse_credentials(value, option)) if value else None
