"""`tieslod build` while `tieslod serve` answers a stream of queries: no request fails, and the
server moves to the new release on its own, once, and answers from it."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import httpx

from tieslod.building.release import build

LABEL = "SELECT ?label WHERE {{ <https://w3id.org/tieslod/id/carol> <http://www.w3.org/2000/01/rdf-schema#label> ?label }} # {}"


def stream(url: str, stop: threading.Event, seen: list[tuple[int, str, str]], fresh: bool) -> None:
    """Query until stopped: (status, release, label) per answer; `fresh` defeats the answer cache
    so every request goes through a worker, the others are mostly answered from the cache."""
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            query = LABEL.format(uuid.uuid4() if fresh else "")
            try:
                response = client.get(url, params={"query": query})
            except httpx.HTTPError as exc:   # recorded, not raised: the assertion below reports it
                seen.append((0, "", repr(exc)))
                continue
            rows = response.json()["results"]["bindings"] if response.status_code == 200 else []
            seen.append((response.status_code, response.headers.get("x-tieslod-release", ""),
                         rows[0]["label"]["value"] if rows else response.text))


def test_build_during_a_stream_of_queries_fails_none(tieslod_serve, mini_settings, mini_data):
    old = build(mini_settings).version
    server = tieslod_serve("--data", str(mini_data), "--out", str(mini_settings.out_dir), "--timeout", "5")
    stop, seen = threading.Event(), [[] for _ in range(3)]
    threads = [threading.Thread(target=stream, args=(server.sparql, stop, seen[i], i < 2)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        entities = mini_data / "entities" / "entities.ttl"
        entities.write_text(entities.read_text().replace('rdfs:label "Carol"', 'rdfs:label "Carol Renamed"'))
        built = subprocess.run([sys.executable, "-m", "tieslod.cli", "build", "--data", str(mini_data),
                                "--out", str(mini_settings.out_dir)], capture_output=True, text=True, timeout=120)
        assert built.returncode == 0, built.stderr
        new = built.stdout.strip().rsplit("/", 1)[-1]
        assert new != old
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(s and s[-1][1] == new for s in seen):
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    for answers in seen:
        assert len(answers) > 10
        assert all(status == 200 for status, _, _ in answers), [a for a in answers if a[0] != 200][:3]
        releases = [release for _, release, _ in answers]
        switch = releases.index(new)
        assert set(releases[:switch]) == {old} and set(releases[switch:]) == {new}   # one switch, no flip-back
        assert {label for _, release, label in answers if release == old} == {"Carol"}
        assert {label for _, release, label in answers if release == new} == {"Carol Renamed"}
    assert "now serving release " + new in server.log()
