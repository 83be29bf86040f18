"""A real tieslod server in a subprocess on a free loopback port, for the page and browser tests."""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from conftest import free_port

LAUNCH = """
import json, sys, uvicorn
from pathlib import Path
from tieslod.config import Settings
from tieslod.api import app as create_app
args = json.loads(sys.argv[1])
settings = Settings(**{k: Path(v) if k.endswith("_dir") else v for k, v in args["settings"].items()})
app = create_app(settings)
uvicorn.run(app, host="127.0.0.1", port=args["port"], log_level="warning")
"""


@contextlib.contextmanager
def running_server(settings: dict, timeout: float = 60.0) -> Iterator[str]:
    """Yield the server's origin (http://127.0.0.1:PORT) once it answers; stop it afterwards."""
    port = free_port()
    args = json.dumps({"port": port, "settings": {k: str(v) for k, v in settings.items()}})
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("server exited early:\n" + proc.stdout.read().decode(errors="replace"))
            try:
                if httpx.get(origin + "/", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.1)
        yield origin
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


MINI_LIFECYCLE = """@prefix dct:  <http://purl.org/dc/terms/> .
@prefix owl:  <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<id/acme-corporation> dct:isReplacedBy <id/acme> ; owl:sameAs <id/acme> .
<id/dave> owl:deprecated true ; rdfs:label "Dave" ; rdfs:comment "Merged by mistake; no source names him." .
"""

EVIL = "<script>window.__pwned = 1</script><img src=x onerror='window.__pwned = 2'>"
EVIL_IRI = "javascript:window.__pwned=4"   # an IRI a browser would run if it were a link's href


def make_mini_site(data: Path) -> None:
    """The mini fixture plus a renamed URI, a withdrawn one, a ledger, and a label with a script tag."""
    (data / "lifecycle.ttl").write_text(MINI_LIFECYCLE, encoding="utf-8")
    entities = data / "entities" / "entities.ttl"
    text = entities.read_text(encoding="utf-8")
    entities.write_text(text.replace('rdfs:label "Carol"', f'rdfs:label "Carol {EVIL}" ; '
                                                          f'skos:altLabel "</script><script>window.__pwned=3</script>" ; '
                                                          f'schema:sameAs <{EVIL_IRI}>, <data:text/html,x>'),
                        encoding="utf-8")
    assert EVIL in entities.read_text(encoding="utf-8")


# shared by the page tests (tests/server/test_pages.py, test_downloads.py, test_views.py, ...)
W3ID = "https://w3id.org/tieslod/"
IONOV = "/id/alexander-ionov"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def get(origin: str, path: str, accept: str | None = None, **kw: object) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    headers.update(kw.pop("headers", {}))  # type: ignore[arg-type]
    return httpx.get(origin + path, headers=headers, follow_redirects=False, timeout=30, **kw)  # type: ignore[arg-type]
