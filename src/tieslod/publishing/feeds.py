"""The release feed (Atom) and the changelog as RDF, plus the few lines a mirror needs to follow them.

Changes are Activity Streams 2.0 activities (as:Create / as:Update / as:Delete of an entity, tie,
claim or source), the vocabulary change-discovery feeds already use; each release is a
dcat:Dataset version that prov:wasRevisionOf the one before."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox

from ..formats import ATOM_FEED, JSON_DATA, media_type
from ..vocab import DCAT, DCT, OWL, PROV, TYPE, XSD, Term, n
from .changelog import Changelog

AS = "https://www.w3.org/ns/activitystreams#"
ATOM = "http://www.w3.org/2005/Atom"
REL = "https://w3id.org/tieslod/releases#"          # our link relations and elements in the feed
PREFIXES = {"as": AS, "dcat": DCAT, "prov": PROV, "dct": DCT}
ACTIVITY = {"added": "Create", "changed": "Update", "withdrawn": "Delete"}


def version_iri(base_uri: str, version: str) -> str:
    return f"{base_uri}dumps/{version}/"


def changes_rdf(log: Changelog, base_uri: str, published: str) -> list[ox.Triple]:
    """One activity per changed resource, all pointing at the release they belong to."""
    release = ox.NamedNode(version_iri(base_uri, log.new))
    when = ox.Literal(published, datatype=n(XSD, "dateTime"))
    triples: list[tuple[ox.NamedNode, ox.NamedNode, Term]] = [(release, TYPE, n(DCAT, "Dataset")), (release, n(OWL, "versionInfo"), ox.Literal(log.new)),
               (release, n(DCT, "issued"), when),
               (release, n(DCAT, "isVersionOf"), ox.NamedNode(base_uri + "dataset"))]
    if log.old:
        previous = ox.NamedNode(version_iri(base_uri, log.old))
        triples += [(release, n(PROV, "wasRevisionOf"), previous), (release, n(DCAT, "previousVersion"), previous)]
    count = 0
    for kind, ops in log.changes.items():
        for op, uris in ops.items():
            for uri in uris:
                count += 1
                act = ox.NamedNode(f"{release.value}changes#{count}")
                triples += [(act, TYPE, n(AS, ACTIVITY[op])), (act, n(AS, "object"), ox.NamedNode(uri)),
                            (act, n(AS, "target"), release), (act, n(AS, "published"), when),
                            (act, n(AS, "summary"), ox.Literal(f"{kind[:-1] if kind != 'entities' else 'entity'} {op}"))]
                if uri in log.replaced_by:
                    triples.append((ox.NamedNode(uri), n(DCT, "isReplacedBy"), ox.NamedNode(log.replaced_by[uri])))
    return sorted((ox.Triple(*t) for t in triples), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def _summary_text(summary: dict[str, dict[str, int]]) -> str:
    parts = [f"{kind}: " + ", ".join(f"{c} {op}" for op, c in ops.items() if c)
             for kind, ops in summary.items() if any(ops.values())]
    return "; ".join(parts) or "no changes to entities, ties, claims or sources"


def atom(index: dict[str, Any], base_uri: str) -> bytes:
    """An Atom feed, newest release first; links are relative to the feed's own URL."""
    ET.register_namespace("", ATOM)
    ET.register_namespace("r", REL)

    def a(tag: str) -> str:
        return f"{{{ATOM}}}{tag}"

    feed = ET.Element(a("feed"))
    ET.SubElement(feed, a("id")).text = base_uri + "releases/feed.atom"
    ET.SubElement(feed, a("title")).text = "tieslod releases"
    versions = index.get("versions", [])
    ET.SubElement(feed, a("updated")).text = versions[0]["published"] if versions else "1970-01-01T00:00:00Z"
    ET.SubElement(ET.SubElement(feed, a("author")), a("name")).text = "tieslod"
    ET.SubElement(feed, a("link"), rel="self", href="feed.atom", type=ATOM_FEED.media_type)
    ET.SubElement(feed, a("link"), rel="related", href="index.json", type=JSON_DATA.media_type)
    for entry_data in versions:
        version = entry_data["version"]
        entry = ET.SubElement(feed, a("entry"))
        ET.SubElement(entry, a("id")).text = version_iri(base_uri, version)
        ET.SubElement(entry, a("title")).text = f"Release {entry_data['release_name']} ({version})"
        ET.SubElement(entry, a("updated")).text = entry_data["published"]
        ET.SubElement(entry, a("summary")).text = _summary_text(entry_data["summary"])
        ET.SubElement(entry, f"{{{REL}}}version").text = version
        if entry_data.get("previous"):
            ET.SubElement(entry, f"{{{REL}}}previous").text = entry_data["previous"]
        folder = f"../dumps/{version}/"
        for rel, name, media in (("alternate", "changes.json", JSON_DATA.media_type),
                                 ("related", "changes.ttl", media_type("turtle")),
                                 (REL + "removed", "removed.nq", media_type("nquads")),
                                 (REL + "added", "added.nq", media_type("nquads")),
                                 (REL + "full", "tieslod.nq", media_type("nquads"))):
            ET.SubElement(entry, a("link"), rel=rel, href=folder + name, type=media)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)   # typeshed: Any for an encoding
    return body + b"\n"


@dataclass(frozen=True)
class FeedEntry:
    version: str
    previous: str | None
    removed: str     # absolute URLs, resolved against the feed URL
    added: str
    full: str


def read_feed(xml: bytes, feed_url: str) -> list[FeedEntry]:
    """The entries of a release feed, newest first."""
    root = ET.fromstring(xml)
    out = []
    for entry in root.findall(f"{{{ATOM}}}entry"):
        links = {link.get("rel"): urljoin(feed_url, link.get("href", "")) for link in entry.findall(f"{{{ATOM}}}link")}
        previous = entry.findtext(f"{{{REL}}}previous")
        out.append(FeedEntry(entry.findtext(f"{{{REL}}}version") or "", previous or None,
                             links[REL + "removed"], links[REL + "added"], links[REL + "full"]))
    return out


def updates_since(entries: list[FeedEntry], have: str | None) -> list[FeedEntry] | None:
    """The patches to apply, oldest first, to go from `have` to the newest version;
    [] when up to date, None when the chain does not reach `have` (download the full dump)."""
    if not entries:
        return []
    by_version = {e.version: e for e in entries}
    chain: list[FeedEntry] = []
    current: FeedEntry | None = entries[0]
    while current is not None and current.version != have:
        chain.append(current)
        if current.previous is None:
            return None if have is not None else chain[::-1]
        current = by_version.get(current.previous)
    return chain[::-1] if current is not None else None
