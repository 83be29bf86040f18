"""Between the IRIs in the data (under Settings.base_uri) and paths on this server.

The base is configuration: with the w3id default, `https://w3id.org/tieslod/id/x` is served at
`/id/x` (w3id redirects there); when the base is this server's own origin with a path
(`https://example.org/lod/` and public_url `https://example.org`) it is served at `/lod/id/x`.
Links in pages are root-relative, so they work on whatever origin the server answers."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..config import ONTOLOGY_IRI, Settings

LINK_SCHEMES = frozenset({"http", "https"})


def linkable(iri: str) -> bool:
    """Whether a foreign IRI may become a clickable link: an allow-list of schemes, by parsing."""
    return urlsplit(iri.strip()).scheme.lower() in LINK_SCHEMES


@dataclass(frozen=True)
class UriMap:
    base: str      # the configured base_uri, ending in "/"
    prefix: str    # the server path that stands for the base, "/" or "/lod/"

    @classmethod
    def from_settings(cls, settings: Settings) -> UriMap:
        base = settings.base_uri
        prefix = "/"
        if settings.public_url:
            origin = settings.public_url.rstrip("/")
            if base.startswith(origin + "/"):
                prefix = urlsplit(base).path or "/"
        return cls(base, prefix if prefix.endswith("/") else prefix + "/")

    def iri(self, path: str) -> str | None:
        """The IRI a server path stands for (`/id/x` -> base + `id/x`), or None if outside the prefix."""
        if not path.startswith(self.prefix):
            return None
        return self.base + path[len(self.prefix):]

    def path(self, iri: str) -> str | None:
        """The server path of one of our IRIs (fragment kept), or None for anyone else's."""
        if iri.startswith(self.base):
            return self.prefix + iri[len(self.base):]
        if iri == ONTOLOGY_IRI or iri.startswith(ONTOLOGY_IRI + "#"):
            return "/ontology" + iri[len(ONTOLOGY_IRI):]
        return None

    def href(self, iri: str) -> str:
        """Where a link to iri should point: our page for our IRIs, the IRI itself for other http(s)
        IRIs, and "" (no link: templates then show the text only) for any other scheme, since the data
        may hold `javascript:` or `data:` IRIs that a browser would run (issue 11)."""
        local = self.path(iri)
        if local is not None:
            return local
        return iri if linkable(iri) else ""

    def route(self, sub: str) -> str:
        """The route path for a part of the URI space, e.g. route('id/') -> '/id/'."""
        return self.prefix + sub
