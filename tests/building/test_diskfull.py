"""A full disk (issue 11, item 7): the build exits 2 naming the file it could not write, and leaves
nothing behind (no temporary release, no cache entries of its own); a previous release stays
current and whole, and the next build works once there is space.

On a real small filesystem (a tmpfs, mounted when the tests run as root) and, where mounting is not
allowed, under RLIMIT_FSIZE: writes past the limit fail with EFBIG through the same write calls and
error paths as ENOSPC does (Python ignores the SIGXFSZ that comes with it), so the build's handling
is exercised either way; only the errno and its text differ."""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthetic import generate

CLI = [sys.executable, "-m", "tieslod.cli"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("synth") / "data"
    generate(data, 25, seed=5)       # a full build writes ~26 MB: ~11 cache, ~6 dumps, ~6 parts, ~2.5 store
    return data


@pytest.fixture()
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "fs"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root, or not allowed): the RLIMIT_FSIZE test stands in")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _resize(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def _build(data: Path, out: Path, fsize: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))
    return subprocess.run([*CLI, "build", "--data", str(data), "--out", str(out)], capture_output=True, text=True,
                          timeout=180, preexec_fn=limit if fsize else None)


def _left(out: Path) -> list[str]:
    """Files a failed build may not leave: anything but the lock, the digests memo and whatever the
    previous release and its cache entries (listed in used.txt) are made of."""
    used = set((out / "cache" / "used.txt").read_text().splitlines()) if (out / "cache" / "used.txt").exists() else set()
    current = (out / "current").resolve() if (out / "current").exists() else None
    found = []
    for path in out.rglob("*"):
        if path.is_dir() or path.name in (".lock", "file-digests.json", "used.txt", "current") \
                or str(path) in used or (current is not None and current in path.parents):
            continue
        found.append(str(path.relative_to(out)))
    return found


def _refused(done: subprocess.CompletedProcess, out: Path, error: str) -> None:
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("tieslod: error: ") and error in last and "nothing was published" in last, done.stderr
    named = last.removeprefix("tieslod: error: ").split(": ")[0]
    assert str(out) in last and (named.startswith(str(out)) or "While appending to file: " + str(out) in last), last
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("size", ["1m", "9m", "13m", "16m"])     # cache, union pieces, dumps, store
def test_a_cold_build_on_a_full_disk_leaves_nothing(corpus: Path, small_fs: Path, size: str) -> None:
    _resize(small_fs, size)
    out = small_fs / "build"
    _refused(_build(corpus, out), out, "No space left on device")
    assert _left(out) == [] and not (out / "current").exists()
    assert not any(out.rglob("*.tmp")) and not any((out / "releases").iterdir())


def test_a_rebuild_on_a_full_disk_keeps_the_previous_release(corpus: Path, small_fs: Path, tmp_path: Path) -> None:
    _resize(small_fs, "30m")
    data, out = tmp_path / "data", small_fs / "build"
    shutil.copytree(corpus, data)
    assert _build(data, out).returncode == 0
    before = (out / "current").resolve()
    dumps = {p.name: p.read_bytes() for p in (before / "dumps").iterdir()}
    for name in ("syn-00003", "syn-00011", "syn-00017"):
        article = data / "articles" / f"{name}.ttl"
        article.write_text(article.read_text(encoding="utf-8").replace("tl:Asserts", "tl:Denies", 1), encoding="utf-8")
    _refused(_build(data, out), out, "No space left on device")
    assert (out / "current").resolve() == before
    assert {p.name: p.read_bytes() for p in (before / "dumps").iterdir()} == dumps
    assert _left(out) == []
    _resize(small_fs, "64m")
    done = _build(data, out)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "current" / "manifest.json").read_text())["build"]["remade"] == 3


@pytest.mark.parametrize("fsize", [200_000, 2_000_000])
def test_a_file_size_limit_is_refused_like_a_full_disk(corpus: Path, tmp_path: Path, fsize: int) -> None:
    out = tmp_path / "build"
    _refused(_build(corpus, out, fsize), out, "File too large")
    assert _left(out) == [] and not (out / "current").exists()
    assert _build(corpus, out).returncode == 0
