"""The /path page (server/pathpage.py) on a real server (moved from tests/querying/test_connections.py,
issue 12)."""
from __future__ import annotations


def test_path_page_has_the_site_layout_a_diagram_per_chain_and_a_quote_per_hop(real_site: str) -> None:
    """Issue 14 item 5, over HTTP: header, one SVG per chain with an arrow per tie pointing the tie's
    way, every hop's claims with their quotes linking to the quote in the article."""
    import re

    import httpx
    page = httpx.get(real_site + "/path", params={"from": "matthew-heimbach", "to": "rodina"}).text
    assert '<header class="site">' in page and 'href="/static/style.css"' in page
    chains = re.findall(r'<section class="chain-box">(.*?)</section>', page, re.DOTALL)
    assert len(chains) == 3
    for chain in chains:
        svg = re.search(r'<svg [^>]*class="chain".*?</svg>', chain, re.DOTALL).group(0)
        hops = re.findall(r'<li class="hop">(.*?)</li>\s*(?=<li class="hop">|</ol>)', chain, re.DOTALL)
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
