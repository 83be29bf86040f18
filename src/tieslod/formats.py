"""The one table of serialization formats and media types: export, query, content negotiation, dumps,
downloads, feeds, push and the service description all read it (docs/architecture.md, "Add a format")."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from .errors import UsageError


@dataclass(frozen=True)
class Format:
    name: str                 # our name, as used by --format and ?format=
    extension: str            # file suffix without the dot
    media_type: str
    rdflib: str | None        # rdflib parser/serializer name
    oxigraph: ox.RdfFormat | ox.QueryResultsFormat | None
    kind: str                 # "graph" (triples), "dataset" (quads), "results" (SELECT/ASK), "table"
    aliases: tuple[str, ...] = ()
    charset: bool = True
    w3c: str | None = None    # its name under http://www.w3.org/ns/formats/ (service descriptions)

    @property
    def rdf_format(self) -> ox.RdfFormat:
        """pyoxigraph's RDF format of a graph or dataset format (TypeError for any other)."""
        if not isinstance(self.oxigraph, ox.RdfFormat):
            raise TypeError(f"{self.name} is not an RDF format")
        return self.oxigraph

    @property
    def results_format(self) -> ox.QueryResultsFormat:
        """pyoxigraph's format of SPARQL results (TypeError for any other)."""
        if not isinstance(self.oxigraph, ox.QueryResultsFormat):
            raise TypeError(f"{self.name} is not a SPARQL results format")
        return self.oxigraph


RDF_FORMATS: tuple[Format, ...] = (
    Format("turtle", "ttl", "text/turtle", "turtle", ox.RdfFormat.TURTLE, "graph", ("ttl",), w3c="Turtle"),
    Format("ntriples", "nt", "application/n-triples", "nt", ox.RdfFormat.N_TRIPLES, "graph", ("nt", "n-triples"), w3c="N-Triples"),
    Format("rdfxml", "rdf", "application/rdf+xml", "xml", ox.RdfFormat.RDF_XML, "graph", ("rdf", "xml", "rdf/xml"), w3c="RDF_XML"),
    Format("jsonld", "jsonld", "application/ld+json", "json-ld", ox.RdfFormat.JSON_LD, "dataset", ("json-ld",), w3c="JSON-LD"),
    Format("nquads", "nq", "application/n-quads", "nquads", ox.RdfFormat.N_QUADS, "dataset", ("nq", "n-quads"), w3c="N-Quads"),
    Format("trig", "trig", "application/trig", "trig", ox.RdfFormat.TRIG, "dataset", (), w3c="TriG"),
)

RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "srj", "application/sparql-results+json", "json", ox.QueryResultsFormat.JSON, "results", ("srj",),
           w3c="SPARQL_Results_JSON"),
    # plain XML and plain text, as Fuseki and Virtuoso answer them for SELECT/ASK (issue 14)
    Format("xml", "srx", "application/sparql-results+xml", "xml", ox.QueryResultsFormat.XML, "results",
           ("srx", "application/xml", "text/xml"), w3c="SPARQL_Results_XML"),
    Format("csv", "csv", "text/csv", "csv", ox.QueryResultsFormat.CSV, "results", (), w3c="SPARQL_Results_CSV"),
    Format("tsv", "tsv", "text/tab-separated-values", "tsv", ox.QueryResultsFormat.TSV, "results", ("text/plain",),
           w3c="SPARQL_Results_TSV"),
)

# Plain JSON for what is not RDF or SPARQL results (search hits, for instance).
JSON_DATA = Format("json", "json", "application/json", None, None, "data")

# The claim table (one row per claim) is a dump format of its own, not an RDF serialization.
CSV_DUMP = Format("csv", "csv", "text/csv", None, None, "table")

# The human-readable page of a resource: negotiated alongside the RDF formats (see server/conneg.py).
HTML_PAGE = Format("html", "html", "text/html", None, None, "page", ("htm", "application/xhtml+xml"))

# Files the archive serves that are neither RDF nor a table: the release feed and gzip members.
ATOM_FEED = Format("atom", "atom", "application/atom+xml", None, None, "feed")
GZIP = Format("gzip", "gz", "application/gzip", None, None, "compressed", charset=False)
FILE_FORMATS: tuple[Format, ...] = (*RDF_FORMATS, JSON_DATA, CSV_DUMP, ATOM_FEED, GZIP)

# Media types served with "; charset=utf-8" when a download names them (text, and the RDF syntaxes
# that are UTF-8 by definition; RDF/XML declares its own encoding).
TEXT_MEDIA: tuple[str, ...] = ("text/", "application/n-triples", "application/n-quads", "application/trig",
                               "application/ld+json")

# `format=` values clients send for graph results that are not names in the table
# (SPARQLWrapper sends format=n3 for N3 and format=json for JSON-LD).
GRAPH_PARAM_ALIASES: dict[str, str] = {"n3": "turtle", "json": "jsonld"}

# What a dereferenced entity URI offers machines, in the server's order of preference.
ENTITY_FORMATS: tuple[str, ...] = ("turtle", "jsonld", "ntriples", "rdfxml")

# Media types that mean the same as one of ours.
MEDIA_ALIASES: dict[str, str] = {
    "application/x-turtle": "text/turtle",
    "text/n3": "text/turtle",
    "text/plain": "application/n-triples",
    "application/json": "application/sparql-results+json",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "application/x-trig": "application/trig",
    "text/x-nquads": "application/n-quads",
}

EXPORT_FORMATS: tuple[str, ...] = ("turtle", "jsonld", "ntriples", "nquads", "trig", "csv")
DUMP_FORMATS: tuple[str, ...] = EXPORT_FORMATS


def _lookup(name: str, table: tuple[Format, ...]) -> Format | None:
    key = name.strip().lower()
    for fmt in table:
        if key in (fmt.name, fmt.extension, fmt.media_type, *fmt.aliases):
            return fmt
    return None


def _require(name: str, table: tuple[Format, ...], what: str) -> Format:
    fmt = _lookup(MEDIA_ALIASES.get(name, name), table)
    if fmt is None:
        raise UsageError(f"unknown {what} format {name!r}; expected one of: " + ", ".join(f.name for f in table))
    return fmt


def rdf_format(name: str) -> Format:
    """An RDF format by name, extension or media type; UsageError if unknown."""
    return _require(name, RDF_FORMATS, "RDF")


def result_format(name: str) -> Format:
    """A SPARQL results format by name, extension or media type; UsageError if unknown."""
    return _require(name, RESULT_FORMATS, "results")


def export_format(name: str) -> Format:
    """A dump format for `tieslod export`: an RDF serialization or the claim CSV. One message, one list
    (the dumps), whether the name is unknown or an RDF format that is not dumped (rdfxml)."""
    key = name.strip().lower()
    if key == "csv":
        return CSV_DUMP
    fmt = _lookup(MEDIA_ALIASES.get(key, key), RDF_FORMATS)
    if fmt is None or fmt.name not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {name!r}; expected one of: " + ", ".join(EXPORT_FORMATS))
    return fmt


def by_extension(ext: str) -> Format | None:
    """The RDF format of a file suffix (without dot), or None."""
    for fmt in RDF_FORMATS:
        if fmt.extension == ext:
            return fmt
    return None


def by_suffix(suffix: str) -> Format | None:
    """The format of a published file by its suffix (".nq" or "nq"): RDF, JSON, CSV, Atom, gzip."""
    ext = suffix.lstrip(".").lower()
    return next((fmt for fmt in FILE_FORMATS if fmt.extension == ext), None)


def media_type(name: str) -> str:
    """The media type of an RDF or results format by name ("ntriples", "json"), without parameters."""
    fmt = _lookup(name, RDF_FORMATS) or _lookup(name, RESULT_FORMATS)
    if fmt is None:
        raise UsageError(f"unknown format {name!r}")
    return fmt.media_type


def content_type(fmt: Format) -> str:
    return f"{fmt.media_type}; charset=utf-8" if fmt.charset else fmt.media_type


def serialize_rdf(items: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: ox.RdfFormat,
                  prefixes: dict[str, str] | None = None) -> bytes:
    """ox.serialize into memory. Its stub returns `bytes | None` for every call; None is only for a call
    given an output to write to, which this one never is."""
    body = ox.serialize(items, format=fmt, prefixes=prefixes)
    if body is None:
        raise TypeError("pyoxigraph serialized into memory but returned nothing")
    return body
