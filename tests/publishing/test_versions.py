"""Versioned releases: immutable archive, index with checksums, changelog (JSON, RDF, Atom), and a
mirror that follows the feed over HTTP and ends with exactly the graph of a fresh download."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from conftest import TEST_DATA
from tieslod.cli import app as cli
from tieslod.config import Settings
from tieslod.errors import UsageError
from tieslod.publishing.feeds import AS, read_feed, updates_since
from tieslod.api import app as create_app
from tieslod.publishing.versions import archive_root, diff_builds, release

E = "https://w3id.org/tieslod/id/"
WHEN = datetime(2025, 1, 1, tzinfo=timezone.utc)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def second_edition(data: Path) -> None:
    """One entity added, one renamed, one claim reworded, one claim withdrawn."""
    entities = data / "entities" / "entities.ttl"
    edit(entities, 'rdfs:label "Carol" .', 'rdfs:label "Carol Example" .')
    entities.write_text(entities.read_text(encoding="utf-8") + 'e:dave a schema:Person ; rdfs:label "Dave" .\n',
                        encoding="utf-8")
    article = data / "articles" / "mini.ttl"
    edit(article, 'tl:summary "Acme gave Bob Jones a grant of $10." ;', 'tl:summary "Acme Corp gave Bob Jones $10." ;')
    text = article.read_text(encoding="utf-8")
    article.write_text(re.sub(r"c:mini-03 a tl:Claim ;.*?\.\n", "", text, flags=re.S), encoding="utf-8")


@pytest.fixture()
def two_releases(mini_settings: Settings):
    first = release(mini_settings, name="first", now=WHEN)
    second_edition(mini_settings.data_dir)
    second = release(mini_settings, name="second", now=WHEN.replace(month=2))
    return mini_settings, first, second


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


