"""ChallengeAuth answers in the scheme the server challenges with: Basic here (a real loopback server),
Digest against a real Virtuoso (test_push_virtuoso.py)."""
from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from tieslod.errors import UsageError
from tieslod.httpauth import ChallengeAuth, credentials_auth

GOOD = "Basic " + base64.b64encode(b"ann:s3cret:with-colon").decode()


class BasicOnly(BaseHTTPRequestHandler):
    seen: ClassVar[list[str | None]] = []   # what every request of the test sent, in order

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        BasicOnly.seen.append(self.headers.get("Authorization"))
        if self.headers.get("Authorization") == GOOD:
            self.send_response(204)
        else:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture()
def basic_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BasicOnly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    BasicOnly.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/store"
    server.shutdown()
    server.server_close()


def test_basic_challenge_is_answered_then_remembered(basic_server: str) -> None:
    auth = credentials_auth("ann:s3cret:with-colon")
    with httpx.Client(auth=auth) as client:
        assert client.put(basic_server, content=b"x").status_code == 204
        assert client.put(basic_server, content=b"y").status_code == 204
    assert BasicOnly.seen == [None, GOOD, GOOD], "one challenge, then credentials at once"
    assert isinstance(auth, ChallengeAuth) and auth.scheme == "basic"


def test_wrong_password_stays_401(basic_server: str) -> None:
    with httpx.Client(auth=credentials_auth("ann:wrong")) as client:
        assert client.put(basic_server, content=b"x").status_code == 401


@pytest.mark.parametrize("value", ["no-colon", ":password-only"])
def test_malformed_credentials_are_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match="user:password"):
        credentials_auth(value)
