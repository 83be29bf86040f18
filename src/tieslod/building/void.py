"""The VoID/DCAT description of the dataset and its distributions (written next to the dumps)."""
from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..config import ONTOLOGY_IRI, Settings
from ..formats import by_extension
from ..model.graph import Dataset
from ..vocab import DCAT, DCT, FOAF, OWL, RDFS, SD, SPDX, TL, TYPE, VOID, XSD, Subject, Term, n, value_of

LICENSE = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class FileInfo:
    name: str           # file name under dumps/
    media_type: str
    size: int
    sha256: str
    encoding: str = ""  # "gzip" for compressed copies


def _lit(value: object, dtype: str | None = None) -> ox.Literal:
    return ox.Literal(str(value), datatype=n(XSD, dtype)) if dtype else ox.Literal(str(value))


def _counts(dataset: Dataset) -> dict[str, int]:
    quads = dataset.quads()
    types: dict[str, set[str]] = {}
    for q in quads:
        if q.predicate == TYPE:
            types.setdefault(value_of(q.object), set()).add(value_of(q.subject))
    ties = set().union(*(v for k, v in types.items() if k.startswith(TL) and k[len(TL):] in TIE_CLASSES)) \
        if types else set()
    return {"quads": len(quads), "triples": len({(q.subject, q.predicate, q.object) for q in quads}),
            "claims": len(types.get(TL + "Claim", ())), "sources": len(types.get(TL + "Source", ())),
            "ties": len(ties), "entities": len({value_of(q.subject) for q in dataset.parts["entities"].quads})
            if "entities" in dataset.parts else 0}


# every tl:Tie subclass of ontology/tieslod.ttl (tests/test_ontology.py keeps the two equal)
TIE_CLASSES = ("Funding", "Meeting", "Leadership", "Membership", "Professional", "Personal", "Founding",
               "Attendance", "Organizing", "Hosting", "Travel", "Collaboration", "Operation", "Targeting",
               "Support", "Display", "Sanction", "MediaCoverage", "Association")


def describe(dataset: Dataset | None, files: list[FileInfo], version: str, settings: Settings,
             summary: tuple[dict[str, int], list[tuple[str, ox.NamedNode, int]]] | None = None) -> list[ox.Triple]:
    """summary = (counts, [(key, graph, quads)]) lets a build that never holds all quads describe them."""
    base = settings.base_uri
    ds = ox.NamedNode(base + "dataset")
    if summary is None:
        assert dataset is not None
        summary = (_counts(dataset), [(k, p.graph, len(p.quads)) for k, p in sorted(dataset.parts.items())])
    counts, graphs = summary
    t: list[tuple[Subject, ox.NamedNode, Term]] = [
        (ds, TYPE, n(VOID, "Dataset")), (ds, TYPE, n(DCAT, "Dataset")),
        (ds, n(DCT, "title"), ox.Literal("tieslod: reported ties between people and organisations", language="en")),
        (ds, n(DCT, "description"), ox.Literal(
            "What news reporting says about ties between US secessionist and white-nationalist groups and Russian "
            "actors: every entity and every claim, each with its speaker, outlet and verbatim quote.", language="en")),
        (ds, n(DCT, "license"), ox.NamedNode(LICENSE)),
        (ds, n(DCT, "rights"), ox.Literal("Quoted article text remains the copyright of its publishers; it is "
                                          "included as evidence for the claims.", language="en")),
        (ds, n(OWL, "versionInfo"), _lit(version)),
        (ds, n(DCAT, "version"), _lit(settings.release_name)),
        (ds, n(VOID, "uriSpace"), _lit(base + "id/")),
        (ds, n(VOID, "vocabulary"), ox.NamedNode(ONTOLOGY_IRI)),
        (ds, n(VOID, "sparqlEndpoint"), ox.NamedNode(base + "sparql")),
        (ds, n(VOID, "triples"), _lit(counts["triples"], "integer")),
        (ds, n(VOID, "entities"), _lit(counts["entities"], "integer")),
        (ds, n(TL, "claimCount"), _lit(counts["claims"], "integer")),
        (ds, n(TL, "tieCount"), _lit(counts["ties"], "integer")),
        (ds, n(TL, "sourceCount"), _lit(counts["sources"], "integer")),
        (ds, n(FOAF, "homepage"), ox.NamedNode(base)),
    ]
    # one term each, made once: a NamedNode costs ~7 µs to check, and 1M quads have 2,500 graphs
    subset, dataset_cls, name, triples, label = (n(VOID, "subset"), n(VOID, "Dataset"), n(SD, "name"),
                                                 n(VOID, "triples"), n(RDFS, "label"))
    integer = n(XSD, "integer")
    for key, graph, size in graphs:
        sub = ox.NamedNode(f"{base}dataset/{key}")
        t += [(ds, subset, sub), (sub, TYPE, dataset_cls), (sub, name, graph),
              (sub, triples, ox.Literal(str(size), datatype=integer)), (sub, label, ox.Literal(f"named graph {key}"))]
    for info in files:
        dist = ox.NamedNode(f"{base}dumps/{info.name}")
        checksum = ox.NamedNode(f"{base}dumps/{info.name}#sha256")
        if _is_rdf(info.name):   # void:dataDump is for RDF dumps: not the claim CSV (issue 14)
            t.append((ds, n(VOID, "dataDump"), dist))
        t += [(ds, n(DCAT, "distribution"), dist), (dist, TYPE, n(DCAT, "Distribution")), (dist, n(DCAT, "downloadURL"), dist),
              (dist, n(DCAT, "mediaType"), _lit(info.media_type)),
              (dist, n(DCAT, "byteSize"), _lit(info.size, "nonNegativeInteger")),
              (dist, n(SPDX, "checksum"), checksum), (checksum, TYPE, n(SPDX, "Checksum")),
              (checksum, n(SPDX, "algorithm"), n(SPDX, "checksumAlgorithm_sha256")),
              (checksum, n(SPDX, "checksumValue"), _lit(info.sha256, "hexBinary"))]
        if info.encoding:
            t.append((dist, n(DCAT, "compressFormat"), _lit("application/gzip")))
    return [ox.Triple(*x) for x in sorted(t, key=lambda x: (str(x[0]), str(x[1]), str(x[2])))]


def _is_rdf(name: str) -> bool:
    """Whether a dump file (or the file inside a .gz) is in an RDF format."""
    inner = name.removesuffix(".gz")
    return by_extension(inner.rsplit(".", 1)[-1]) is not None


def counts(dataset: Dataset) -> dict[str, int]:
    return _counts(dataset)
