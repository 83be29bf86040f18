"""A release is built for its settings (issue 14, item 1): commands run against the release that
matches theirs, and nothing moves a running server to a release built for another base."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from conftest import free_port, stop_process
from tieslod.building.release import build, current_release, ensure_built
from tieslod.config import Settings

CLI = [sys.executable, "-m", "tieslod.cli"]
QUERY = min((Path(__file__).resolve().parents[2] / "queries").glob("01-*.rq"))


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=180)


def _current(cwd: Path) -> dict:
    return json.loads((cwd / "build" / "current" / "manifest.json").read_text())


def test_manifest_records_the_settings(mini_settings: Settings) -> None:
    manifest = json.loads((build(mini_settings).release_dir / "manifest.json").read_text())
    assert manifest["settings"] == {"base_uri": mini_settings.base_uri,
                                    "data_dir": os.path.abspath(mini_settings.data_dir)}


def test_a_release_for_other_settings_does_not_move_current(mini_settings: Settings) -> None:
    first = build(mini_settings).release_dir
    other = mini_settings.with_(base_uri="http://127.0.0.1:9/")
    built = ensure_built(other)
    assert built != first and json.loads((built / "manifest.json").read_text())["base_uri"] == other.base_uri
    assert current_release(mini_settings) == first
    assert ensure_built(other) == built, "built once, then found"


@pytest.mark.slow
def test_a_server_with_another_base_survives_commands_in_the_same_directory(tmp_path: Path) -> None:
    assert _cli(tmp_path, "build").returncode == 0          # a checkout's default build: `current`
    default_release = _current(tmp_path)["version"]
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile() as log:   # the server's output, read back at the end
        server = subprocess.Popen([*CLI, "serve", "--base-uri", base, "--port", str(port), "--workers", "1"],
                                  cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "sparql", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            rows = httpx.get(base + "sparql", params={"query": f"SELECT ?s WHERE {{ ?s a ?t FILTER(STRSTARTS(STR(?s), "
                                                                f"'{base}id/')) }} LIMIT 3"},
                             headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
            pages = [r["s"]["value"] for r in rows]
            assert pages and all(httpx.get(p, headers={"Accept": "text/html"}).status_code == 200 for p in pages)
            assert _current(tmp_path)["version"] == default_release, "serve did not move `current`"
            asked = _cli(tmp_path, "query", "-f", str(QUERY))
            assert asked.returncode == 0 and asked.stdout.strip(), asked.stderr
            assert _cli(tmp_path, "query", "--base-uri", "https://example.org/x/", "ASK {}").returncode == 0
            assert _cli(tmp_path, "build", "--force").returncode == 0    # `current`: a new default-base release
            assert _current(tmp_path)["base_uri"] != base
            time.sleep(2.5)                                             # the server looks every second
            assert all(httpx.get(p, headers={"Accept": "text/html"}).status_code == 200 for p in pages)
            log.seek(0)
            said = log.read().decode()
            assert "not switching to release" in said and "base_uri" in said, said
        finally:
            stop_process(server, 20)


def test_the_watcher_follows_another_data_dir_with_a_warning_but_never_another_base(
        mini_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import shutil

    from tieslod.server.releases import ReleaseWatcher
    first = build(mini_settings).release_dir
    copy = tmp_path / "data-copy"
    shutil.copytree(mini_settings.data_dir, copy)
    (copy / "entities" / "entities.ttl").open("a").write('\ne:dora a schema:Person ; rdfs:label "Dora" .\n')
    watcher = ReleaseWatcher(mini_settings.out_dir, first, mini_settings)
    other_data = build(mini_settings.with_(data_dir=copy)).release_dir
    with caplog.at_level("WARNING", logger="tieslod.server"):
        assert watcher.refresh() and watcher.current() == other_data
    assert "built with other settings: data_dir" in caplog.text
    caplog.clear()
    build(mini_settings.with_(base_uri="http://127.0.0.1:9/"))
    with caplog.at_level("WARNING", logger="tieslod.server"):
        assert not watcher.refresh() and not watcher.refresh()
    assert watcher.current() == other_data and caplog.text.count("not switching to release") == 1


def test_releases_for_other_bases_never_prune_the_current_one(mini_data: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`build/current` is kept however many releases for other settings are built beside it, also with
    the default, relative --out (it was compared, resolved, with the relative listing and pruned)."""
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=mini_data, out_dir=Path("build"))
    first = build(settings).release_dir
    for port in range(9001, 9006):
        ensure_built(settings.with_(base_uri=f"http://127.0.0.1:{port}/"))
    from tieslod.building.manifest import read_manifest
    assert current_release(settings) == first.resolve() and read_manifest(first)["version"] == first.name
