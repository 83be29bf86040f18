"""Connection paths: shortest chains of ties, each hop with its tie, stance, speaker and quote."""
from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tieslod.cli import app as cli
from tieslod.config import Settings
from tieslod.errors import UsageError
from tieslod.api import path as connection_paths
from tieslod.querying.connections import PathAnswer
from tieslod.api import app as create_app

E = "https://w3id.org/tieslod/id/"
HEIMBACH, ROGOZIN = E + "matthew-heimbach", E + "dmitry-rogozin"
VIA_RIM = [HEIMBACH, E + "russian-imperial-movement", E + "rodina", ROGOZIN]
VIA_TWP = [HEIMBACH, E + "traditionalist-worker-party", E + "russian-imperial-movement", E + "rodina", ROGOZIN]


def nodes(chain: list) -> list[str]:
    return [chain[0].start] + [hop.end for hop in chain]


def source_texts(settings: Settings) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (settings.data_dir / "sources").glob("*.txt"))


@pytest.fixture(scope="module")
def heimbach_rogozin(real_settings: Settings) -> PathAnswer:
    return connection_paths(real_settings, "Matthew Heimbach", "Dmitry Rogozin", max_depth=4, alternatives=5)


def test_competency_heimbach_to_rogozin(heimbach_rogozin: PathAnswer, real_settings: Settings) -> None:
    chains = [nodes(c) for c in heimbach_rogozin.paths]
    assert chains[0] == VIA_RIM                       # the shortest: via the Russian Imperial Movement
    assert VIA_TWP in chains                          # and via the Traditionalist Worker Party
    assert [len(c) for c in chains] == sorted(len(c) for c in chains)
    texts = source_texts(real_settings)
    for chain in heimbach_rogozin.paths:
        for hop in chain:
            assert hop.ties, hop
            for tie in hop.ties:
                assert tie.asserted and {tie.subject, tie.object} == {hop.start, hop.end}
                asserting = [c for c in tie.claims if c.asserts]
                assert asserting and all(c.quote and c.quote in texts and c.speaker_label for c in asserting)


def test_rodina_hop_rests_on_quotes(heimbach_rogozin: PathAnswer) -> None:
    last = heimbach_rogozin.paths[0][-1]
    assert (last.start_label, last.end_label) == ("Rodina", "Dmitry Rogozin")
    quotes = [c.quote for t in last.ties for c in t.claims]
    assert any("co-founded by" in q and "Rogozin" in q for q in quotes)
    assert all(c.stance == "asserted" for t in last.ties for c in t.claims)


def test_depth_limit(real_settings: Settings) -> None:
    assert connection_paths(real_settings, "Heimbach", "Rogozin", max_depth=2).paths == []
    one = connection_paths(real_settings, "Heimbach", "Rogozin", max_depth=3, alternatives=10)
    assert one.paths and all(len(c) <= 3 for c in one.paths)


def test_only_asserted_ties_by_default(mini_settings: Settings) -> None:
    # bob-jones-met-carol is only denied (and met with no response): no evidence of a connection
    assert connection_paths(mini_settings, "Acme Corp", "Carol").paths == []
    marked = connection_paths(mini_settings, "Acme Corp", "Carol", include_denied=True)
    assert [nodes(c) for c in marked.paths] == [[E + "acme", E + "bob-jones", E + "carol"]]
    first, second = marked.paths[0]
    assert first.ties[0].asserted and not second.ties[0].asserted
    assert {c.stance for c in second.ties[0].claims} == {"denied", "did not respond"}
    assert {c.speaker_label for c in second.ties[0].claims} == {"Bob Jones", "Carol"}


def test_ambiguous_or_unknown_names(mini_settings: Settings) -> None:
    with pytest.raises(UsageError, match="no entity"):
        connection_paths(mini_settings, "Nobody Atall Zq", "Carol")
    assert connection_paths(mini_settings, "acme", E + "bob-jones").paths    # key and URI work too


def test_web_path_json_and_html(real_settings: Settings) -> None:
    with TestClient(create_app(real_settings)) as client:
        as_json = client.get("/path", params={"from": "Heimbach", "to": "Rogozin"},
                             headers={"Accept": "application/json"})
        assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
        body = as_json.json()
        assert [body["paths"][0][0]["start"]] + [h["end"] for h in body["paths"][0]] == VIA_RIM
        for hop in body["paths"][0]:
            claim = hop["ties"][0]["claims"][0]
            assert set(claim) >= {"stance", "speaker_label", "quote", "source"} and claim["quote"]
        page = client.get("/path", params={"from": "Heimbach", "to": "Rogozin"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Rodina" in page.text and "<blockquote>" in page.text and 'href="/id/rodina"' in page.text
        assert client.get("/path?from=Heimbach&to=Rogozin&format=json").json() == body
        bad = client.get("/path", params={"from": "Movement", "to": "Rogozin", "format": "json"})
        assert bad.status_code == 400 and "ambiguous" in bad.json()["message"]
        assert client.get("/path").status_code == 200                           # the empty form


def test_cli_path(real_settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["path", "Matthew Heimbach", "Dmitry Rogozin", "--out", str(real_settings.out_dir)])
    assert result.exit_code == 0, result.output
    assert "Matthew Heimbach → Russian Imperial Movement → Rodina → Dmitry Rogozin" in result.stdout
    assert "co-founded by" in result.stdout and "asserted by" in result.stdout


def test_path_page_has_the_site_layout_a_diagram_per_chain_and_a_quote_per_hop(real_site: str) -> None:
    """Issue 14 item 5, over HTTP: header, one SVG per chain with an arrow per tie pointing the tie's
    way, every hop's claims with their quotes linking to the quote in the article."""
    import re

    import httpx
    page = httpx.get(real_site + "/path", params={"from": "matthew-heimbach", "to": "rodina"}).text
    assert '<header class="site">' in page and 'href="/static/style.css"' in page
    chains = re.findall(r'<section class="chain-box">(.*?)</section>', page, re.S)
    assert len(chains) == 3
    for chain in chains:
        svg = re.search(r'<svg [^>]*class="chain".*?</svg>', chain, re.S).group(0)
        hops = re.findall(r'<li class="hop">(.*?)</li>\s*(?=<li class="hop">|</ol>)', chain, re.S)
        assert len(re.findall(r'<line class="tie', svg)) >= len(hops) >= 1
        assert 'role="group"' in svg and "<title" in svg   # a group: it holds links (axe: nested-interactive)
        for hop in hops:
            assert "<blockquote><a class=\"quote-link\" href=\"/id/source/" in hop and "#claim-" in hop
            assert re.search(r"–\w+→", hop), "the tie's direction, subject → object"
    first = chains[0]
    # Heimbach met the RIM's Shevchuk: Heimbach is the tie's subject, so its arrow points down the chain
    assert "Matthew Heimbach –meeting→ Russian Imperial Movement" in first
    arrow = re.search(r'<line class="tie" x1="(\d+)" y1="(\d+)" x2="\d+" y2="(\d+)"', first)
    assert int(arrow.group(2)) < int(arrow.group(3))


def test_path_page_draws_unasserted_ties_dashed_and_says_so(real_site: str) -> None:
    import httpx
    # the only tie nobody asserts: "the Kremlin gave" money to the TNM (Miller declined to say how much)
    params = {"from": "russian-government", "to": "texas-nationalist-movement", "include_denied": "1"}
    page = httpx.get(real_site + "/path", params=params).text
    assert 'class="tie unasserted"' in page and "not asserted: only denied or unanswered" in page
    without = httpx.get(real_site + "/path", params={k: v for k, v in params.items() if k != "include_denied"}).text
    assert 'class="tie unasserted"' not in without
