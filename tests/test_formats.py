"""The one format table."""
from __future__ import annotations

import pytest

from tieslod.errors import UsageError
from tieslod.formats import RDF_FORMATS, RESULT_FORMATS, export_format, rdf_format, result_format


@pytest.mark.parametrize("name, expected", [("ttl", "turtle"), ("text/turtle", "turtle"), ("nt", "ntriples"),
                                            ("application/ld+json", "jsonld"), ("application/x-trig", "trig")])
def test_rdf_format_lookup(name: str, expected: str) -> None:
    assert rdf_format(name).name == expected


def test_result_formats() -> None:
    assert result_format("application/sparql-results+json").name == "json"
    assert result_format("tsv").media_type == "text/tab-separated-values"


def test_unknown_formats_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown RDF format"):
        rdf_format("docx")
    with pytest.raises(UsageError):
        export_format("rdfxml")


def test_table_is_consistent() -> None:
    for fmt in (*RDF_FORMATS, *RESULT_FORMATS):
        assert fmt.oxigraph is not None and "/" in fmt.media_type and fmt.extension
    assert len({f.extension for f in RDF_FORMATS}) == len(RDF_FORMATS)
