"""The query UI at /sparql and the Content-Security-Policy, over HTTP against a real server (httpx).
What the browser does with them is in tests/test_browser.py."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest

from tieslod.server.headers import POLICY, YASGUI_STYLE_HASHES

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
STATIC = Path(__file__).resolve().parents[2] / "src" / "tieslod" / "static"


def test_a_browser_gets_the_query_ui(real_site: str) -> None:
    page = httpx.get(real_site + "/sparql", headers={"Accept": BROWSER})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"].split(", ")
    assert '<script src="/static/yasgui/yasgui.min.js">' in page.text and 'class="site"' in page.text
    config = json.loads(re.search(r'<script type="application/json" id="yasgui-config">(.*?)</script>',
                                  page.text, re.DOTALL).group(1))
    assert config["endpoint"] == real_site + "/sparql"
    assert config["prefixes"]["e"] == "https://w3id.org/tieslod/id/" and config["prefixes"]["tl"].endswith("ontology#")
    questions = len(list((Path(__file__).resolve().parents[2] / "queries").glob("*.rq")))   # 22 (was 20)
    assert page.text.count('class="example"') == questions
    # everything the page loads comes from this server: no CDN
    assert not re.findall(r'(?:src|href)="https?://(?!127\.0\.0\.1)[^"]*\.(?:js|css)"', page.text)
    for asset in ("/static/yasgui/yasgui.min.js", "/static/yasgui/yasgui.min.css", "/static/sparql.js"):
        assert httpx.get(real_site + asset).status_code == 200, asset


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "application/ld+json"])
def test_clients_that_do_not_prefer_html_still_get_the_service_description(real_site: str, accept) -> None:
    response = httpx.get(real_site + "/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and not response.headers["content-type"].startswith("text/html")


def test_a_query_in_the_url_is_always_a_protocol_request(real_site: str) -> None:
    """Shared links carry the query after '#'; `?query=` answers data even to a browser."""
    page = httpx.get(real_site + "/sparql", headers={"Accept": BROWSER}).text
    assert 'href="/sparql#query=%23%20Question' in page
    query = {"query": "ASK { ?s ?p ?o }"}
    answer = httpx.get(real_site + "/sparql", params=query, headers={"Accept": BROWSER})
    assert answer.headers["content-type"].startswith("application/sparql-results+xml")   # application/xml;q=0.9
    assert "<boolean>true</boolean>" in answer.text
    as_csv = httpx.get(real_site + "/sparql", params={"query": "SELECT (1 AS ?x) {}", "format": "csv"},
                       headers={"Accept": BROWSER})   # the page's download links
    assert as_csv.headers["content-type"].startswith("text/csv") and as_csv.text.split() == ["x", "1"]


def test_html_answers_carry_the_policy_and_data_answers_do_not_need_it(real_site: str) -> None:
    for path in ("/", "/sparql", "/id/alexander-ionov", "/search?q=x", "/dumps/", "/id/nothing-here"):
        response = httpx.get(real_site + path, headers={"Accept": BROWSER})
        assert response.headers["content-security-policy"] == POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in httpx.get(real_site + "/id/alexander-ionov.ttl").headers
    assert "script-src 'self';" in POLICY and "'unsafe-inline'" not in POLICY and "frame-ancestors 'none'" in POLICY


def test_the_style_hashes_are_those_of_the_vendored_bundle() -> None:
    """The policy admits two exact <style> texts of YASGUI's column resizer; recomputed from the file."""
    bundle = (STATIC / "yasgui" / "yasgui.min.js").read_text(encoding="utf-8")
    start = bundle.index(".grip-resizable{table-layout:fixed;}")
    first = bundle[bundle.rindex("`", 0, start) + 1:bundle.index("`", start)]
    assert "`*{cursor:`+n.opt.dragCursor+`!important}`" in bundle and "dragCursor:`col-resize`" in bundle
    drag = "*{cursor:col-resize!important}"   # the stylesheet while a column is dragged, with the default
    digest = lambda text: base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert (digest(first), digest(drag)) == YASGUI_STYLE_HASHES


def test_the_reconciliation_preview_may_be_framed_by_openrefine(real_site: str) -> None:
    response = httpx.get(real_site + "/reconcile/preview", params={"id": "alexander-ionov"})
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors" not in policy and "script-src" not in policy and "default-src 'none'" in policy
