"""`tieslod build`: atomic releases, deterministic output, reuse of an unchanged build."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tieslod.building.release import build, current_release, input_version
from tieslod.config import Settings
from tieslod.errors import InputError, NonConformance


def _snapshot(release: Path) -> dict[str, bytes]:
    return {str(p.relative_to(release)): p.read_bytes() for p in sorted((release / "dumps").iterdir())}


def test_build_writes_a_release_and_points_current_at_it(mini_settings: Settings) -> None:
    result = build(mini_settings)
    assert current_release(mini_settings) == result.release_dir
    assert (result.release_dir / "store").is_dir() and (result.release_dir / "manifest.json").is_file()
    assert os.path.islink(mini_settings.out_dir / "current")
    assert result.counts["claims"] == 3


def test_unchanged_inputs_reuse_the_release(mini_settings: Settings) -> None:
    first = build(mini_settings)
    again = build(mini_settings)
    assert again.reused and again.release_dir == first.release_dir


def test_forced_rebuild_is_byte_identical(mini_settings: Settings) -> None:
    first = _snapshot(build(mini_settings).release_dir)
    second = _snapshot(build(mini_settings, force=True).release_dir)
    assert first == second


def test_failed_validation_leaves_previous_output_intact(mini_settings: Settings) -> None:
    good = build(mini_settings)
    before = _snapshot(good.release_dir)
    article = mini_settings.data_dir / "articles" / "mini.ttl"
    article.write_text(article.read_text(encoding="utf-8").replace("tl:stance tl:Denies ;", ""), encoding="utf-8")
    with pytest.raises(NonConformance):
        build(mini_settings)
    assert current_release(mini_settings) == good.release_dir
    assert _snapshot(good.release_dir) == before
    assert not list((mini_settings.out_dir / "releases").glob(".tmp-*"))


def test_failure_while_writing_leaves_previous_output_intact(mini_settings: Settings,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    good = build(mini_settings)
    before = _snapshot(good.release_dir)
    (mini_settings.data_dir / "entities" / "entities.ttl").open("a").write('\ne:dora a schema:Person ; rdfs:label "Dora" .\n')

    def broken_store(*_args: object) -> None:
        raise OSError("disk full")
    monkeypatch.setattr("tieslod.building.release.load_store", broken_store)
    monkeypatch.setattr("tieslod.building.storeupdate.load_store", broken_store)     # (update_or_load's fallback)
    monkeypatch.setattr("tieslod.building.storeupdate.update_store", broken_store)
    with pytest.raises(OSError, match="disk full"):
        build(mini_settings)
    assert current_release(mini_settings) == good.release_dir
    assert _snapshot(good.release_dir) == before
    assert sorted(p.name for p in (mini_settings.out_dir / "releases").iterdir()) == [good.release_dir.name]


def test_malformed_turtle_fails_before_writing_anything(mini_settings: Settings) -> None:
    article = mini_settings.data_dir / "articles" / "mini.ttl"
    article.open("a").write('\nc:broken a tl:Claim ; tl:summary "unterminated .\n')
    with pytest.raises(InputError) as caught:
        build(mini_settings)
    assert caught.value.path == article and caught.value.line is not None
    assert not (mini_settings.out_dir / "current").exists()


def test_malformed_turtle_in_a_rebuild_stops_the_early_dump_writers(mini_settings: Settings) -> None:
    """The N-Quads, TriG and JSON-LD writers start copying from the previous release before the
    chunks are made (dumpwriters.py); a chunk that fails must surface as its own InputError, with
    no writer left waiting and nothing of the unfinished release left behind."""
    import threading
    good = build(mini_settings)
    before = _snapshot(good.release_dir)
    threads = threading.active_count()
    article = mini_settings.data_dir / "articles" / "mini.ttl"
    article.open("a").write('\nc:broken a tl:Claim ; tl:summary "unterminated .\n')
    with pytest.raises(InputError) as caught:
        build(mini_settings)
    assert caught.value.path == article
    assert current_release(mini_settings) == good.release_dir
    assert _snapshot(good.release_dir) == before
    assert not list((mini_settings.out_dir / "releases").glob(".tmp-*"))
    for _ in range(100):        # worker threads end just after their last job
        if threading.active_count() <= threads:
            break
        time.sleep(0.02)
    assert threading.active_count() <= threads


def test_version_changes_with_data_and_base(mini_settings: Settings) -> None:
    v1 = input_version(mini_settings)
    assert input_version(mini_settings.with_(base_uri="https://example.org/ties/")) != v1
    (mini_settings.data_dir / "sources" / "mini.txt").open("a").write(" More.")
    assert input_version(mini_settings) != v1


def test_base_uri_is_configuration(mini_settings: Settings) -> None:
    result = build(mini_settings.with_(base_uri="https://example.org/ties/"))
    ttl = (result.release_dir / "dumps" / "tieslod.nt").read_text(encoding="utf-8")
    assert "<https://example.org/ties/id/bob-jones>" in ttl and "w3id.org/tieslod/id/" not in ttl


def test_data_dir_given_as_dot_builds_the_same_release(mini_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Input paths are made relative by string slicing where they start with the root's string
    (pipeline.relative); a root of "." does not, and must still give the same version and data."""
    absolute = build(mini_settings)
    monkeypatch.chdir(mini_settings.data_dir)
    dot = Settings(data_dir=Path("."), out_dir=mini_settings.out_dir.parent / "dot-build")
    assert input_version(dot) == absolute.version
    assert build(dot).counts == absolute.counts
