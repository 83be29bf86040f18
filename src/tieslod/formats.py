"""The one table of serialization formats, shared by export, query and content negotiation."""
from __future__ import annotations

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


RDF_FORMATS: tuple[Format, ...] = (
    Format("turtle", "ttl", "text/turtle", "turtle", ox.RdfFormat.TURTLE, "graph", ("ttl",)),
    Format("ntriples", "nt", "application/n-triples", "nt", ox.RdfFormat.N_TRIPLES, "graph", ("nt", "n-triples")),
    Format("rdfxml", "rdf", "application/rdf+xml", "xml", ox.RdfFormat.RDF_XML, "graph", ("rdf", "xml", "rdf/xml")),
    Format("jsonld", "jsonld", "application/ld+json", "json-ld", ox.RdfFormat.JSON_LD, "dataset", ("json-ld",)),
    Format("nquads", "nq", "application/n-quads", "nquads", ox.RdfFormat.N_QUADS, "dataset", ("nq", "n-quads")),
    Format("trig", "trig", "application/trig", "trig", ox.RdfFormat.TRIG, "dataset", ()),
)

RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "srj", "application/sparql-results+json", "json", ox.QueryResultsFormat.JSON, "results", ("srj",)),
    # plain XML and plain text, as Fuseki and Virtuoso answer them for SELECT/ASK (issue 14)
    Format("xml", "srx", "application/sparql-results+xml", "xml", ox.QueryResultsFormat.XML, "results",
           ("srx", "application/xml", "text/xml")),
    Format("csv", "csv", "text/csv", "csv", ox.QueryResultsFormat.CSV, "results", ()),
    Format("tsv", "tsv", "text/tab-separated-values", "tsv", ox.QueryResultsFormat.TSV, "results", ("text/plain",)),
)

# Plain JSON for what is not RDF or SPARQL results (search hits, for instance).
JSON_DATA = Format("json", "json", "application/json", None, None, "data")

# The claim table (one row per claim) is a dump format of its own, not an RDF serialization.
CSV_DUMP = Format("csv", "csv", "text/csv", None, None, "table")

# The human-readable page of a resource: negotiated alongside the RDF formats (see server/conneg.py).
HTML_PAGE = Format("html", "html", "text/html", None, None, "page", ("htm", "application/xhtml+xml"))

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


def content_type(fmt: Format) -> str:
    return f"{fmt.media_type}; charset=utf-8" if fmt.charset else fmt.media_type
