"""Every dump round-trips: parsed by rdflib and by pyoxigraph (and JSON-LD by PyLD) it is the same graph."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from pyld import jsonld

from tieslod.building.dumps import CSV_COLUMNS
from tieslod.building.release import DUMP_NAMES, BuildResult

RDF_DUMPS = {"tieslod.ttl": ("turtle", ox.RdfFormat.TURTLE, False),
             "tieslod.nt": ("nt", ox.RdfFormat.N_TRIPLES, False),
             "tieslod.nq": ("nquads", ox.RdfFormat.N_QUADS, True),
             "tieslod.trig": ("trig", ox.RdfFormat.TRIG, True),
             "tieslod.jsonld": ("json-ld", ox.RdfFormat.JSON_LD, True)}


def _reference(build: BuildResult) -> set[ox.Quad]:
    return set(ox.parse(path=str(build.release_dir / "dumps" / "tieslod.nq"), format=ox.RdfFormat.N_QUADS))


def _triples(quads: set[ox.Quad]) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}


def _from_rdflib(data: bytes, fmt: str, quads: bool) -> set:
    """Parse with rdflib, hand back through canonical N-Quads so terms compare exactly."""
    if quads:
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=fmt)
        text = dataset.serialize(format="nquads")
        return set(ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS))
    graph = rdflib.Graph().parse(data=data, format=fmt)
    return {ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(graph.serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES)}


def test_dump_names_cover_every_export_format() -> None:
    assert sorted(f.name for _, f in DUMP_NAMES) == sorted(["turtle", "jsonld", "ntriples", "nquads", "trig", "csv"])


@pytest.mark.parametrize("name", sorted(RDF_DUMPS))
def test_dump_round_trips_in_pyoxigraph(real_build: BuildResult, name: str) -> None:
    _, fmt, quads = RDF_DUMPS[name]
    parsed = set(ox.parse(path=str(real_build.release_dir / "dumps" / name), format=fmt))
    reference = _reference(real_build)
    assert (parsed if quads else _triples(parsed)) == (reference if quads else _triples(reference))


@pytest.mark.parametrize("name", sorted(RDF_DUMPS))
def test_dump_round_trips_in_rdflib(real_build: BuildResult, name: str) -> None:
    fmt, _, quads = RDF_DUMPS[name]
    parsed = _from_rdflib((real_build.release_dir / "dumps" / name).read_bytes(), fmt, quads)
    reference = _reference(real_build)
    assert parsed == (reference if quads else _triples(reference))


def _no_remote(url: str, options: dict | None = None) -> dict:
    raise AssertionError(f"PyLD tried to fetch {url}: the dump must embed its context")


def test_jsonld_round_trips_through_pyld_offline(real_build: BuildResult) -> None:
    doc = json.loads((real_build.release_dir / "dumps" / "tieslod.jsonld").read_text(encoding="utf-8"))
    assert isinstance(doc["@context"], dict), "context must be embedded, not a remote URL"
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": _no_remote})
    assert set(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)) == _reference(real_build)


def test_jsonld_is_compacted_with_our_terms(real_build: BuildResult) -> None:
    text = (real_build.release_dir / "dumps" / "tieslod.jsonld").read_text(encoding="utf-8")
    nodes = [node for graph in json.loads(text)["@graph"] for node in graph.get("@graph", [])]
    claims = [n for n in nodes if n.get("@type") == "tl:Claim"]
    assert claims and all(n["stance"].startswith("tl:") for n in claims)
    assert all(isinstance(n["quote"], (str, list)) and "label" in n for n in claims)
    assert "http://www.w3.org/2000/01/rdf-schema#label" not in text
    assert len(text.splitlines()) > len(nodes), "human-readable: one line per node at least"


def test_csv_has_the_columns_in_order_and_one_row_per_claim(real_build: BuildResult) -> None:
    raw = (real_build.release_dir / "dumps" / "tieslod-claims.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a BOM lets spreadsheets detect UTF-8"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS == (
        "claim", "subject", "subject_label", "relation", "relation_label", "object", "object_label", "stance",
        "speaker_label", "date", "source", "source_title", "quote", "details",
        "speaker", "reported_by", "modality", "verdict")
    assert len(rows) - 1 == real_build.counts["claims"]
    assert all(len(r) == len(CSV_COLUMNS) for r in rows)
    grant = [r for r in rows if "$55,000" in r[12] and r[8] == "Alexander Ionov" and r[4] == "funding"]
    assert len(grant) == 1 and grant[0][15] == "Los Angeles Times"
    assert grant[0][14] == "https://w3id.org/tieslod/id/alexander-ionov" and grant[0][7] == "asserts"


def test_gzip_copies_and_checksums_match(real_build: BuildResult) -> None:
    dumps = real_build.release_dir / "dumps"
    sums = dict(reversed(line.split("  ")) for line in (dumps / "SHA256SUMS").read_text().splitlines())
    for name, _ in DUMP_NAMES:
        assert gzip.decompress((dumps / f"{name}.gz").read_bytes()) == (dumps / name).read_bytes()
        assert sums[name] == hashlib.sha256((dumps / name).read_bytes()).hexdigest()


def test_void_describes_every_distribution(real_build: BuildResult) -> None:
    void = rdflib.Graph().parse(real_build.release_dir / "dumps" / "void.ttl")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    urls = {str(u).rsplit("/", 1)[-1] for u in void.objects(None, dcat.downloadURL)}
    assert {name for name, _ in DUMP_NAMES} <= urls


def test_chunked_dumps_equal_whole_graph_serializations(tmp_path: Path) -> None:
    """The release's CSV (rows cached per article, csvrows.py) is byte-identical to the table made from
    all quads at once, and the union dumps hold each triple of the union graph once; on a synthetic
    corpus whose articles restate and cite each other's ties."""
    from synthetic import generate
    from tieslod.building.dumps import csv_bytes
    from tieslod.building.release import build
    from tieslod.config import Settings
    from tieslod.model.graph import assemble
    from tieslod.model.sources import read_inputs
    generate(tmp_path / "data", 8, seed=2)
    settings = Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "out")
    dumps = build(settings).release_dir / "dumps"
    quads = assemble(read_inputs(settings), settings).quads()
    assert (dumps / "tieslod-claims.csv").read_bytes() == csv_bytes(quads)
    union = {q.triple for q in quads}
    for name in ("tieslod.nt", "tieslod.ttl"):
        fmt = ox.RdfFormat.N_TRIPLES if name.endswith(".nt") else ox.RdfFormat.TURTLE
        triples = [q.triple for q in ox.parse(path=str(dumps / name), format=fmt)]
        assert len(triples) == len(union) and set(triples) == union, name


WT_DATA = b"""
<https://ex.org/a> <https://ex.org/p> "one" .
<https://ex.org/a> <https://ex.org/p> "two\\nlines\\n  indented" .
<https://ex.org/a> <https://ex.org/q> <https://ex.org/b> .
<https://ex.org/b> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/tieslod/ontology#Tie> .
<https://ex.org/b> <https://ex.org/p> "x"@en .
<https://ex.org/c#frag-1> <https://ex.org/p> "last" .
_:n1 <https://ex.org/p> "blank" .
_:n1 <https://ex.org/q> <https://ex.org/a> .
"""


@pytest.mark.parametrize("dropped", [[0], [1, 2], [3, 4], [5], [0, 5], [6], [0, 6, 7]])
def test_without_triples_equals_writing_the_rest_again(dropped: list[int]) -> None:
    """The union bodies without some triples (dumps.without_triples): the
    result must be byte-identical to serializing the remaining triples whole, wherever they sit
    (first, middle, last subject, a whole subject gone, a blank-node subject: the whole-body path)."""
    from tieslod.building.dumps import without_triples
    from tieslod.building.parts import strip_prefixes, union_bodies
    prefixes = {"ex": "https://ex.org/", "tl": "https://w3id.org/tieslod/ontology#"}
    triples = sorted(ox.parse(WT_DATA, format=ox.RdfFormat.N_TRIPLES), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("https://ex.org/g")) for t in triples]
    full = union_bodies(quads, prefixes)
    drop = {triples[i] for i in dropped}
    rest = [t for t in triples if t not in drop]
    got = without_triples(full["nt"], drop, prefixes)
    assert got["nt"] == ox.serialize(rest, format=ox.RdfFormat.N_TRIPLES)
    assert got["ttl"] == strip_prefixes(ox.serialize(rest, format=ox.RdfFormat.TURTLE, prefixes=prefixes))


def test_csv_cells_keep_line_breaks_verbatim() -> None:
    """A quote spanning a line break stays as printed: the csv module quotes the cell (issue 10);
    formula-like cells are still defused."""
    from tieslod.building.dumps import csv_line
    row = ["first line\nsecond “line”\u00a0end", "=SUM(A1)", "plain"]
    line = csv_line(row)
    assert line.startswith('"first line\nsecond')
    assert next(csv.reader(io.StringIO(line, newline=""))) == [row[0], "'=SUM(A1)", "plain"]
