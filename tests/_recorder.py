"""A loopback HTTP listener that records every request it gets and, given an upstream, forwards it there
and relays the answer: put between a front end and its SPARQL database, it shows what was sent."""
from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx

KEEP = ("content-type", "accept", "authorization")


class Recorder:
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.queries: list[str] = []      # the `query` form field of every request, as received
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                fields = parse_qs(body.decode(errors="replace")) if body else parse_qs(self.path.partition("?")[2])
                recorder.queries.extend(fields.get("query", ["<no query field>"]))
                if recorder.upstream is None:
                    self.send_response(204)
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() in KEEP}
                answer = httpx.request(self.command, recorder.upstream, content=body, headers=headers, timeout=30)
                self.send_response(answer.status_code)
                for name in ("content-type", "x-sparql-maxrows"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                # the front end may have given up (its deadline): then there is nothing to relay to
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(answer.content)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
