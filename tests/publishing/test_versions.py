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


def test_changelog_names_what_changed(two_releases) -> None:
    settings, first, second = two_releases
    changes = second.changelog.changes
    assert changes["entities"] == {"added": [E + "dave"], "changed": [E + "carol"], "withdrawn": []}
    assert changes["claims"] == {"added": [], "changed": [E + "claim/mini-01"], "withdrawn": [E + "claim/mini-03"]}
    assert changes["ties"]["changed"] == [E + "tie/bob-jones-met-carol"]    # its label names Carol
    assert first.changelog.summary()["claims"]["added"] == 3
    # the same as RDF (Activity Streams), as JSON, and from `tieslod diff`
    folder = archive_root(settings) / "dumps" / second.version
    store = ox.Store()
    store.load(path=str(folder / "changes.ttl"), format=ox.RdfFormat.TURTLE)
    deleted = [str(r["o"].value) for r in store.query(
        f"SELECT ?o WHERE {{ ?a a <{AS}Delete> ; <{AS}object> ?o }}")]
    assert deleted == [E + "claim/mini-03"]
    assert json.loads((folder / "changes.json").read_text(encoding="utf-8"))["changes"] == changes
    assert diff_builds(settings, first.version, second.version).changes == changes
    result = CliRunner().invoke(cli, ["diff", first.version, second.version, "--out", str(settings.out_dir)])
    assert result.exit_code == 0, result.output
    assert f"+ {E}dave  Dave" in result.stdout and f"- {E}claim/mini-03" in result.stdout


def quads_of(data: bytes) -> set[ox.Quad]:
    return set(ox.parse(data, format=ox.RdfFormat.N_QUADS))


def test_polling_mirror_converges(mini_settings: Settings) -> None:
    settings = mini_settings
    release(settings, name="first", now=WHEN)
    with TestClient(create_app(settings)) as web:
        # the mirror starts from a full download of the then-latest version
        index = web.get("/releases/index.json").json()
        have = index["latest"]
        mirror = ox.Store()                                   # a mirror running its own triple store
        plain = quads_of(web.get("/dumps/latest/tieslod.nq").content)    # and one keeping the quads as given
        mirror.extend(plain)
        # two more releases happen while the mirror is not looking
        second_edition(settings.data_dir)
        release(settings, name="second", now=WHEN.replace(month=2))
        edit(settings.data_dir / "entities" / "entities.ttl", 'rdfs:label "Dave" .', 'rdfs:label "Dave Jones" .')
        third = release(settings, name="third", now=WHEN.replace(month=3))
        feed_url = "http://testserver/releases/feed.atom"
        feed = web.get(feed_url)
        assert feed.headers["content-type"].startswith("application/atom+xml")
        plan = updates_since(read_feed(feed.content, feed_url), have)
        assert plan is not None and [e.version for e in plan][-1] == third.version and len(plan) == 2
        for entry in plan:                                    # oldest first: remove, then add
            removed, added = quads_of(web.get(entry.removed).content), quads_of(web.get(entry.added).content)
            for quad in removed:
                mirror.remove(quad)
            mirror.extend(added)
            plain = (plain - removed) | added
        fresh = web.get("/dumps/latest/tieslod.nq")
        assert fresh.headers["content-location"] == f"/dumps/{third.version}/tieslod.nq"
        assert plain == quads_of(fresh.content)
        fresh_store = ox.Store()                              # Oxigraph stores some literals canonically,
        fresh_store.extend(quads_of(fresh.content))           # so compare store with store
        assert set(mirror) == set(fresh_store)
        versioned = web.get(f"/dumps/{third.version}/tieslod.nq")
        assert "immutable" in versioned.headers["cache-control"] and versioned.content == fresh.content
        assert updates_since(read_feed(feed.content, feed_url), third.version) == []
        assert web.get("/dumps/0123456789abcdef/tieslod.nq").status_code == 404
        assert web.get(f"/dumps/{third.version}/..%2Fmanifest.json").status_code == 404
