"""Releases are whole or refused (issue 11, items 3 and 7): a forced rebuild switches like any other
build, a reader refuses a release whose manifest is not complete (exit 2), and a build whose
previous release has a damaged manifest or record of its dump parts names the file and builds from scratch."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synthetic import generate
from tieslod.building.release import build
from tieslod.config import Settings

CLI = [sys.executable, "-m", "tieslod.cli"]

# Polls current/manifest.json as fast as it can until told to stop (a line on stdin); prints
# how many looks found it and how many did not.
POLLER = """
import os, sys, threading
path, stop, seen, missing = sys.argv[1], threading.Event(), 0, 0
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
print("ready", flush=True)
while not stop.is_set():
    if os.path.isfile(path):
        seen += 1
    else:
        missing += 1
print(seen, missing, flush=True)
"""


def _dumps(release: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((release / "dumps").iterdir())}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("synth") / "data"
    generate(data, 100, seed=2)
    return data


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("small") / "data"
    generate(data, 25, seed=2)
    return data


def test_forced_rebuild_never_leaves_current_without_a_manifest(corpus: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=corpus, out_dir=tmp_path / "build")
    first = build(settings)
    poller = subprocess.Popen([sys.executable, "-c", POLLER, str(settings.out_dir / "current" / "manifest.json")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert poller.stdout.readline().strip() == "ready"
    forced = [build(settings, force=True) for _ in range(3)]
    seen, missing = map(int, poller.communicate("stop\n", timeout=30)[0].split())
    assert seen > 1000 and missing == 0, f"{missing} of {seen + missing} looks found no manifest"
    assert len({r.release_dir for r in [first, *forced]}) == 4, "each forced build wrote a new directory"
    assert (settings.out_dir / "current").resolve() == forced[-1].release_dir
    assert all(r.version == first.version for r in forced)
    assert _dumps(forced[-1].release_dir) == _dumps(first.release_dir)
    assert build(settings).reused, "an unforced build after a forced one reuses it"


@pytest.mark.parametrize("damage", ["truncated", "missing", "not an object"])
def test_serve_and_query_refuse_a_release_without_a_complete_manifest(mini_settings: Settings, damage: str) -> None:
    release = build(mini_settings).release_dir
    manifest = release / "manifest.json"
    if damage == "truncated":
        manifest.write_bytes(manifest.read_bytes()[:200])
    elif damage == "missing":
        manifest.unlink()
    else:
        manifest.write_text("[]")
    where = ["--data", str(mini_settings.data_dir), "--out", str(mini_settings.out_dir)]
    for args in (["serve", "--port", "0"], ["query", "ASK {}"]):
        done = subprocess.run([*CLI, *args, *where], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and str(manifest) in lines[0] and "not a complete release" in lines[0], done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name, damage", [("manifest.json", b"{\"version\": \"trunc"),
                                          ("manifest.json", b"\x00\xff garbage"),
                                          ("parts", b"[1, 2]"), ("parts", b"{\"nq\": [[1, 2]]}"),
                                          ("parts", b"{\"nq\": 7}")])
def test_a_damaged_previous_release_is_named_and_rebuilt_from_scratch(small: Path, tmp_path: Path,
                                                                      name: str, damage: bytes) -> None:
    data = tmp_path / "data"
    subprocess.run(["cp", "-r", str(small), str(data)], check=True)
    out = tmp_path / "build"
    build(Settings(data_dir=data, out_dir=out))
    if name == "parts":         # the record of the dump parts, inside the manifest
        manifest = json.loads((out / "current" / "manifest.json").read_text())
        manifest["parts"] = json.loads(damage)
        (out / "current" / "manifest.json").write_text(json.dumps(manifest))
    else:
        (out / "current" / name).write_bytes(damage)
    article = data / "articles" / "syn-00007.ttl"
    article.write_text(article.read_text(encoding="utf-8").replace("tl:Denies", "tl:Asserts"), encoding="utf-8")
    damaged = (out / "current").resolve() / ("manifest.json" if name == "parts" else name)
    said = []
    for attempt in range(2):     # the damaged release never blocks a later build
        done = subprocess.run([*CLI, "build", "--data", str(data), "--out", str(out)] + ["--force"] * attempt,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        said.append(done.stderr)
    assert f"{damaged}" in said[0] and "unreadable" in said[0] and "not reused" in said[0], said[0]
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    clean = build(Settings(data_dir=data, out_dir=tmp_path / "clean"))
    assert _dumps(out / "current") == _dumps(clean.release_dir)
    assert manifest["version"] == clean.version


def test_the_damaged_file_is_named(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    settings = Settings(data_dir=small, out_dir=out)
    build(settings)
    damaged = (out / "current").resolve() / "manifest.json"
    damaged.write_text("{")
    said: list[str] = []
    result = build(settings, said.append)
    assert not result.reused and result.release_dir != damaged.parent
    assert any(str(damaged) in m and "building from scratch" in m for m in said), said
    manifest = json.loads((result.release_dir / "manifest.json").read_text())
    assert manifest["build"]["store"] == "fresh" and manifest["build"]["remade"] == 0
