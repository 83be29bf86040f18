"""Content negotiation (server/conneg.py) and HTTP revalidation helpers, without a server."""
from __future__ import annotations

import pytest
from starlette.requests import Request

from tieslod.formats import HTML_PAGE, rdf_format
from tieslod.server.conneg import (
    ENTITY_OFFERS,
    NotAcceptable,
    UnknownFormat,
    by_name,
    choose,
    negotiate,
    parse_accept,
    split_suffix,
)
from tieslod.server.httpcache import is_fresh

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
RDFLIB = ("application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
          "application/n-quads, application/trix, application/trig")


@pytest.mark.parametrize(("accept", "expected"), [
    (BROWSER, "html"),
    (RDFLIB, "turtle"),                                   # all q=1: the server's order decides
    ("text/turtle", "turtle"),
    ("application/x-turtle", "turtle"),
    ("application/ld+json", "jsonld"),
    ("application/json", "jsonld"),
    ("text/plain", "ntriples"),
    ("application/rdf+xml", "rdfxml"),
    ("application/xml", "rdfxml"),
    ("*/*", "html"),
    (None, "html"),
    ("", "html"),
    ("text/*", "html"),
    ("application/*", "jsonld"),
    ("text/turtle;q=0.2, application/ld+json;q=0.8", "jsonld"),
    ("text/html;q=0.1, */*;q=0.5", "turtle"),                # html explicitly low, the rest via */*
    ("TEXT/TURTLE", "turtle"),
    ("text/turtle; charset=utf-8; q=0.9, text/html; q=0.8", "turtle"),
    ("application/ld+json;q=1.0;profile=x, text/turtle;q=0.99", "jsonld"),
    ("text/turtle;q=bogus, application/rdf+xml", "rdfxml"),
])
def test_negotiate(accept: str | None, expected: str) -> None:
    assert negotiate(accept).name == expected


@pytest.mark.parametrize("accept", ["image/png", "text/html;q=0, */*;q=0", "application/sparql-results+json"])
def test_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        negotiate(accept)


def test_parse_accept_defaults_and_clamps() -> None:
    assert [(r.type, r.subtype, r.q) for r in parse_accept(None)] == [("*", "*", 1.0)]
    assert parse_accept("a/b;q=7")[0].q == 1.0
    assert parse_accept("garbage, a/b")[0].subtype == "b"


@pytest.mark.parametrize(("path", "stem", "fmt"), [
    ("alexander-ionov.ttl", "alexander-ionov", "turtle"),
    ("claim/x-01.jsonld", "claim/x-01", "jsonld"),
    ("tie/a-b.nt", "tie/a-b", "ntriples"),
    ("source/s.rdf", "source/s", "rdfxml"),
    ("x.html", "x", "html"),
    ("alexander-ionov", "alexander-ionov", None),
    ("a.b/c", "a.b/c", None),
    ("x.yaml", "x.yaml", None),
    (".ttl", ".ttl", None),
])
def test_split_suffix(path: str, stem: str, fmt: str | None) -> None:
    got_stem, got = split_suffix(path)
    assert got_stem == stem and (got.name if got else None) == fmt


def test_choose_precedence() -> None:
    ttl, jsonld = rdf_format("turtle"), rdf_format("jsonld")
    assert choose("application/ld+json", "nt", ttl) is ttl            # suffix first
    assert choose("application/ld+json", "turtle", None) is ttl       # then ?format=
    assert choose("application/ld+json", None, None) is jsonld        # then Accept
    assert choose(None, "html", None) is HTML_PAGE
    assert choose(None, "text/turtle", None) is ttl
    with pytest.raises(UnknownFormat):
        choose(None, "yaml", None)


def test_offers_come_from_the_format_table() -> None:
    assert [f.name for f in ENTITY_OFFERS] == ["html", "turtle", "jsonld", "ntriples", "rdfxml"]
    assert by_name("ttl") is rdf_format("turtle") and by_name("xml") is rdf_format("rdfxml")
    assert by_name("nquads") is None                                 # not offered for a single resource


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""})


def test_is_fresh() -> None:
    etag, mtime = '"v1-turtle"', 1_700_000_000.0
    assert is_fresh(_request({"If-None-Match": '"v1-turtle"'}), etag, mtime)
    assert is_fresh(_request({"If-None-Match": 'W/"v1-turtle", "other"'}), etag, mtime)
    assert is_fresh(_request({"If-None-Match": "*"}), etag, mtime)
    assert not is_fresh(_request({"If-None-Match": '"v0-turtle"'}), etag, mtime)
    # If-None-Match wins over If-Modified-Since
    assert not is_fresh(_request({"If-None-Match": '"x"', "If-Modified-Since": "Sat, 01 Jan 2050 00:00:00 GMT"}),
                        etag, mtime)
    assert is_fresh(_request({"If-Modified-Since": "Sat, 01 Jan 2050 00:00:00 GMT"}), etag, mtime)
    assert not is_fresh(_request({"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}), etag, mtime)
    assert not is_fresh(_request({"If-Modified-Since": "not a date"}), etag, mtime)
    assert not is_fresh(_request({}), etag, mtime)
