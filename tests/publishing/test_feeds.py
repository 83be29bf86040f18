"""The release feed (publishing/feeds.py): a mirror that follows it over HTTP ends with exactly the graph
of a fresh download (moved from test_versions.py, issue 12)."""
from __future__ import annotations

import pyoxigraph as ox
from starlette.testclient import TestClient

from _editions import WHEN, edit, second_edition
from tieslod.api import app as create_app
from tieslod.config import Settings
from tieslod.publishing.feeds import read_feed, updates_since
from tieslod.publishing.versions import release


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
