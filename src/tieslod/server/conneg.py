"""Content negotiation over the one format table (formats.py): by suffix, by ?format=, by Accept.

Precedence: a suffix (`/id/x.ttl`) names one document and wins; then `?format=`; then the Accept
header with q-values (RFC 9110 §12.5.1), where the most specific matching media range decides each
offer's q. Ties go to the more specific match, then to the server's order of preference."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import NotAcceptable, UnknownFormat
from ..formats import ENTITY_FORMATS, HTML_PAGE, MEDIA_ALIASES, Format, rdf_format

# Entity documents: the page first (what a browser sending only */* should see), then the RDF formats.
ENTITY_OFFERS: tuple[Format, ...] = (HTML_PAGE, *(rdf_format(n) for n in ENTITY_FORMATS))


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """3 for an exact match, 2 for type/*, 1 for */*, 0 for no match."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == main and self.subtype == "*":
            return 2
        return 3 if (self.type, self.subtype) == (main, sub) else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; a missing or empty header accepts anything."""
    ranges = []
    for item in (header or "*/*").split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if "/" not in media:
            continue
        q = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0   # a malformed q is treated as "not acceptable" rather than guessed
        main, _, sub = media.partition("/")
        ranges.append(MediaRange(main, sub, q))
    return ranges or [MediaRange("*", "*", 1.0)]


def media_types(fmt: Format) -> tuple[str, ...]:
    """Every media type that asks for fmt: its own, its aliases in the table, and for a graph,
    plain application/json (a client asking an entity URI for JSON wants JSON-LD, not SPARQL results)."""
    own = [fmt.media_type, *(a for a in fmt.aliases if "/" in a)]
    own += [alias for alias, target in MEDIA_ALIASES.items() if target == fmt.media_type]
    if fmt.name == "jsonld":
        own.append("application/json")
    return tuple(dict.fromkeys(own))


def _score(fmt: Format, ranges: list[MediaRange]) -> tuple[float, int]:
    """(q, specificity) of fmt under the ranges: the most specific range matching any of its types."""
    best_spec, best_q = 0, 0.0
    for index, media in enumerate(media_types(fmt)):
        for rng in ranges:
            spec = rng.specificity(media)
            if index and spec < 3:
                continue   # aliases count only when named exactly: application/* is not a request for XHTML
            if spec > best_spec or (spec == best_spec and spec and rng.q > best_q):
                best_spec, best_q = spec, rng.q
    return best_q, best_spec


def negotiate(accept: str | None, offers: Sequence[Format] = ENTITY_OFFERS) -> Format:
    """The best offer for an Accept header; NotAcceptable if every offer has q=0."""
    ranges = parse_accept(accept)
    scored = [(*_score(fmt, ranges), -index, fmt) for index, fmt in enumerate(offers)]
    q, _spec, _order, fmt = max(scored, key=lambda s: s[:3])
    if q <= 0:
        raise NotAcceptable("acceptable here: " + ", ".join(f.media_type for f in offers))
    return fmt


def by_name(name: str, offers: Sequence[Format] = ENTITY_OFFERS) -> Format | None:
    """An offer by our name, extension, alias or media type (as in ?format=turtle or ?format=ttl)."""
    key = name.strip().lower()
    for fmt in offers:
        if key in (fmt.name, fmt.extension, *fmt.aliases, *media_types(fmt)):
            return fmt
    return None


def split_suffix(path: str, offers: Sequence[Format] = ENTITY_OFFERS) -> tuple[str, Format | None]:
    """('id/x', turtle) for 'id/x.ttl'; (path, None) when the last segment has no known suffix."""
    head, _, last = path.rpartition("/")
    stem, dot, ext = last.rpartition(".")
    if not dot or not stem:
        return path, None
    for fmt in offers:
        if ext.lower() == fmt.extension:
            return (f"{head}/{stem}" if head else stem), fmt
    return path, None


def choose(accept: str | None, format_param: str | None, suffix: Format | None,
           offers: Sequence[Format] = ENTITY_OFFERS) -> Format:
    """The representation to send: suffix, then ?format=, then Accept."""
    if suffix is not None:
        return suffix
    if format_param:
        fmt = by_name(format_param, offers)
        if fmt is None:
            raise UnknownFormat(f"unknown format {format_param!r}; expected one of: "
                                + ", ".join(f.name for f in offers))
        return fmt
    return negotiate(accept, offers)
