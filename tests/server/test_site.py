"""The shared machinery of the pages (server/site.py) over the bundled release, queried in process through
an AppContext: the search index and its ranking, JSON safe inside <script>, and the example queries."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tieslod.config import Settings
from tieslod.querying.store import Answer, open_read_only, run_query
from tieslod.server.context import AppContext, QueryRequest
from tieslod.server.httpcache import load_release
from tieslod.server.site import OWN_KINDS, Site, fold, json_for_script

E = "https://w3id.org/tieslod/id/"


@pytest.fixture(scope="module")
def site(real_build) -> Site:
    store = open_read_only(real_build.release_dir)
    release = load_release(Path(real_build.release_dir))

    async def run(req: QueryRequest, client: str | None = None) -> Answer:
        return run_query(store, req.query, req.result_format, req.graph_format, base_iri=req.base_iri)

    return Site(AppContext(Settings(), lambda: release, run, lambda: release.version))


def test_search_ranks_exact_then_prefix_then_inside_and_folds_case_and_accents(site: Site) -> None:
    hits = asyncio.run(site.search("ionov"))
    assert hits[0]["iri"] == E + "alexander-ionov" and hits[0]["href"] == "/id/alexander-ionov"
    assert hits[0]["kind"] == "Person"
    russia = [h["label"] for h in asyncio.run(site.search("RUSSIA"))]
    assert russia[0] == "Russia"                                                 # the exact name first
    starts = [fold(label).startswith("russia") for label in russia]
    assert starts == sorted(starts, reverse=True) and not all(starts)            # then names starting so
    assert len(asyncio.run(site.search("russia", limit=3))) == 3
    nationalist = asyncio.run(site.search("TEXAS nationalist"))
    assert nationalist[0]["iri"] == E + "texas-nationalist-movement"
    assert asyncio.run(site.search("   ")) == []
    assert fold("Russia’s CAFÉ “x”") == "russia's cafe \"x\""


def test_the_index_holds_entities_and_sources_only_once_per_release(site: Site) -> None:
    entries = asyncio.run(site.index())
    assert len(entries) >= 50
    assert not [e for e in entries if e.iri.removeprefix(E).startswith(OWN_KINDS)]   # no tie, claim, review
    assert [e.iri for e in entries if e.iri.startswith(E + "source/")]                # sources are there
    assert asyncio.run(site.index()) is entries                                       # read once per release


def test_json_for_script_cannot_end_the_script_element() -> None:
    data = {"label": "</script><script>alert(1)</script><!-- & -->"}
    text = json_for_script(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data


def test_examples_are_the_competency_questions(site: Site, repo_root: Path) -> None:
    examples = site.examples()
    files = sorted((repo_root / "queries").glob("*.rq"))
    assert [e.name for e in examples] == [p.stem for p in files] and len(files) >= 15
    assert all(e.question and not e.question.lower().startswith("# question") for e in examples)
