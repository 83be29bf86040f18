"""Bit rot is not republished (issue 11, item 4): what a rebuild takes from the previous release or
the build cache is checked against the checksum recorded when it was made, or made again."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from synthetic import generate
from tieslod.building.dumpparts import PARTS
from tieslod.building.release import build
from tieslod.config import Settings


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("synth") / "data"
    generate(data, 25, seed=5)
    return data


def _dumps(release: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((release / "dumps").iterdir())}


def _sums_hold(release: Path) -> None:
    sums = dict(reversed(line.split("  ")) for line in (release / "dumps" / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert hashlib.sha256((release / "dumps" / name).read_bytes()).hexdigest() == digest, name


def _flip(path: Path, fraction: float) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * fraction)] ^= 0x04
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def built(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A build of the corpus to copy and damage, and the dumps a clean full build makes after the change."""
    root = tmp_path_factory.mktemp("bitrot")
    shutil.copytree(corpus, root / "data")
    build(Settings(data_dir=root / "data", out_dir=root / "build"))
    changed = root / "changed"
    shutil.copytree(corpus, changed)
    _change(changed)
    return root, _dumps(build(Settings(data_dir=changed, out_dir=root / "full")).release_dir)


def _change(data: Path) -> None:
    article = data / "articles" / "syn-00022.ttl"     # late in graph order: most of each dump is copied
    article.write_text(article.read_text(encoding="utf-8").replace("tl:Asserts", "tl:Denies", 1), encoding="utf-8")


def _copy_of(built: tuple[Path, dict[str, bytes]], tmp_path: Path) -> tuple[Settings, Path]:
    shutil.copytree(built[0] / "data", tmp_path / "data")
    shutil.copytree(built[0] / "build", tmp_path / "build", symlinks=True)
    settings = Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "build")
    return settings, (tmp_path / "build" / "current").resolve()


def _parts(release: Path, suffix: str) -> list[Path]:
    return sorted((release / PARTS).glob(f"*{suffix}"))


@pytest.mark.parametrize("suffix", [".nq", ".ttl", ".nt", ".jsonld", ".trig", ".nq.gz", ".ttl.gz", ".nt.gz",
                                    ".jsonld.gz", ".trig.gz"])
def test_a_flipped_byte_in_a_previous_part_is_not_republished(built: tuple[Path, dict[str, bytes]],
                                                              tmp_path: Path, suffix: str) -> None:
    """A rebuild reuses the previous release's parts (by hard link) only if their bytes still have the
    CRC-32 its manifest recorded: a flipped bit is made again from the cache."""
    settings, first = _copy_of(built, tmp_path)
    for part in _parts(first, suffix):
        _flip(part, 0.3)
    _change(settings.data_dir)
    said: list[str] = []
    after = build(settings, said.append).release_dir
    assert any("does not match its recorded checksum" in m and suffix.removesuffix(".gz") in m for m in said), said
    assert json.loads((after / "manifest.json").read_text())["build"]["remade"] == 1, "the rest still reused"
    _sums_hold(after)
    assert _dumps(after) == built[1]


def test_unchanged_parts_are_hard_links_of_the_previous_ones(built: tuple[Path, dict[str, bytes]],
                                                            tmp_path: Path) -> None:
    settings, first = _copy_of(built, tmp_path)
    _change(settings.data_dir)
    after = build(settings).release_dir
    shared = [p for p in (after / PARTS).iterdir() if (first / PARTS / p.name).exists() and p.name != "SHA256SUMS"]
    assert shared and all((first / PARTS / p.name).samefile(p) for p in shared)
    assert len(shared) < len(list((after / PARTS).iterdir())) - 1, "the changed article's parts are new"
    sums = dict(reversed(line.split("  ")) for line in (after / PARTS / "SHA256SUMS").read_text().splitlines())
    assert sums and all(hashlib.sha256((after / PARTS / n).read_bytes()).hexdigest() == d for n, d in sums.items())


@pytest.mark.parametrize("name", ["tieslod.nq", "tieslod.ttl.gz", "tieslod.jsonld"])
def test_a_flipped_byte_in_a_previous_whole_dump_is_not_republished(built: tuple[Path, dict[str, bytes]],
                                                                    tmp_path: Path, name: str) -> None:
    """The whole files are assembled from parts, never copied from the previous release's."""
    settings, first = _copy_of(built, tmp_path)
    _flip(first / "dumps" / name, 0.3)
    _change(settings.data_dir)
    after = build(settings).release_dir
    _sums_hold(after)
    assert _dumps(after) == built[1]


def test_a_changed_parts_record_is_not_trusted(built: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    """The record of the parts carries the checksums reused parts are checked against: a changed one
    (its SHA-256 in the manifest no longer matches) is named and not used; every part is made again,
    and the new release records the right checksums."""
    settings, first = _copy_of(built, tmp_path)
    manifest = json.loads((first / "manifest.json").read_text())
    manifest["parts"]["nq"][0][2] = "0" * 64
    (first / "manifest.json").write_text(json.dumps(manifest))
    _change(settings.data_dir)
    said: list[str] = []
    after = build(settings, said.append).release_dir
    assert any("record of the parts is unreadable" in m and "not reused" in m for m in said), said
    _sums_hold(after)
    sums = dict(reversed(line.split("  ")) for line in (after / PARTS / "SHA256SUMS").read_text().splitlines())
    assert all(hashlib.sha256((after / PARTS / n).read_bytes()).hexdigest() == d for n, d in sums.items())
    assert _dumps(after) == built[1]


@pytest.mark.parametrize("kind", ["meta", "nq", "body", "union", "facts"])
def test_a_damaged_cache_entry_is_made_again(built: tuple[Path, dict[str, bytes]], tmp_path: Path, kind: str) -> None:
    settings, first = _copy_of(built, tmp_path)
    chunk = json.loads((first / "manifest.json").read_text())["graphs"]["syn-00003"]["chunk"]
    entry = settings.out_dir / "cache" / kind / chunk[:2] / f"{chunk}.pickle"
    _flip(entry, 0.5)
    shutil.rmtree(first / PARTS)          # no previous part reused: every piece is loaded from the cache
    _change(settings.data_dir)
    said: list[str] = []
    after = build(settings, said.append).release_dir
    from tieslod.building.cache import Cache
    # (union and facts entries are read only when their union-less entry or rows must be made: here
    # they are not, and a damaged entry nobody reads harms nothing; the dumps below are still checked)
    if kind in ("meta", "nq", "body"):
        assert Cache(settings.out_dir / "cache").get(kind, chunk) is not None, "made again"
    if kind in ("nq", "body"):
        assert any(str(entry) in m and "building again" in m for m in said), said
    _sums_hold(after)
    assert _dumps(after) == built[1]


def test_a_damaged_store_file_is_not_carried_into_the_next_release(built: tuple[Path, dict[str, bytes]],
                                                                    tmp_path: Path) -> None:
    """An incremental rebuild copies (hard-links) the previous store's table files; RocksDB checks a
    block only when it reads one, so a damaged block would reach the new release unnoticed."""
    import pyoxigraph as ox
    settings, first = _copy_of(built, tmp_path)
    table = max((first / "store").glob("*.sst"), key=lambda p: p.stat().st_size)
    _flip(table, 0.4)
    _change(settings.data_dir)
    said: list[str] = []
    after = build(settings, said.append).release_dir
    assert any(str(table) in m and "loaded afresh" in m for m in said), said
    assert json.loads((after / "manifest.json").read_text())["build"]["store"] == "fresh"
    quads = set(ox.Store.read_only(str(after / "store")))     # every block readable: a full scan
    clean = (built[0] / "full" / "current").resolve() / "store"
    assert quads == set(ox.Store.read_only(str(clean)))
    assert _dumps(after) == built[1]


def test_a_previous_store_that_cannot_be_opened_is_loaded_afresh(built: tuple[Path, dict[str, bytes]],
                                                                 tmp_path: Path) -> None:
    """A damaged file the table checksums do not cover (RocksDB's MANIFEST) fails the update; the build
    loads the store afresh instead of failing, and every later build, the same way."""
    import pyoxigraph as ox
    settings, first = _copy_of(built, tmp_path)
    manifest = next((first / "store").glob("MANIFEST-*"))
    manifest.write_bytes(manifest.read_bytes()[:40])
    _change(settings.data_dir)
    said: list[str] = []
    after = build(settings, said.append).release_dir
    assert any("could not be updated" in m and "loaded afresh" in m for m in said), said
    clean = (built[0] / "full" / "current").resolve() / "store"
    assert set(ox.Store.read_only(str(after / "store"))) == set(ox.Store.read_only(str(clean)))
    assert _dumps(after) == built[1]
