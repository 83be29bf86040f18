"""Versioned releases (publishing/versions.py): immutable archive, index with checksums. The changelog is
tested in test_changelog.py, the feed a mirror follows in test_feeds.py (issue 12)."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from conftest import TEST_DATA
from tieslod.errors import UsageError
from tieslod.publishing.versions import archive_root, release


def test_archive_layout_index_and_checksums(two_releases) -> None:
    settings, first, second = two_releases
    root = archive_root(settings)
    assert (root / "dumps" / "latest").resolve() == (root / "dumps" / second.version).resolve()
    index = json.loads((root / "releases" / "index.json").read_text(encoding="utf-8"))
    assert index["latest"] == second.version
    assert [v["version"] for v in index["versions"]] == [second.version, first.version]
    assert [v["release_name"] for v in index["versions"]] == ["second", "first"]
    assert index["versions"][0]["previous"] == first.version and index["versions"][1]["previous"] is None
    for entry in index["versions"]:
        names = {f["name"] for f in entry["files"]}
        assert {"tieslod.nq", "tieslod.ttl", "tieslod.jsonld", "changes.json", "changes.ttl",
                "added.nq", "removed.nq", "manifest.json"} <= names
        for f in entry["files"]:
            data = (root / "releases" / f["url"]).resolve().read_bytes()
            assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["sha256"]


def test_released_versions_are_immutable(two_releases) -> None:
    settings, first, second = two_releases
    folder = archive_root(settings) / "dumps" / first.version
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()}
    again = release(settings, name="second")                  # nothing changed: nothing to publish
    assert again.version == second.version and again.changelog is None
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()} == before
    shutil.rmtree(settings.data_dir)
    shutil.copytree(TEST_DATA / "mini", settings.data_dir)    # back to the first edition's inputs
    with pytest.raises(UsageError, match="released before"):
        release(settings, name="first")                       # an old version cannot come back silently


