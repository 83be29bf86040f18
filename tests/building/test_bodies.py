"""Byte helpers on dump bodies (bodies.py)."""
from __future__ import annotations

import gzip

from tieslod.building.bodies import gz, strip_prefixes, subject_span


def test_strip_prefixes_leaves_the_body() -> None:
    assert strip_prefixes(b"@prefix a: <https://a/> .\n@prefix b: <https://b/> .\n\na:x a b:Y .\n") == b"a:x a b:Y .\n"


def test_subject_span_finds_the_run_of_lines_of_a_subject() -> None:
    body = b"<a> <p> 1 .\n<b> <p> 1 .\n<b> <q> 2 .\n<c> <p> 3 .\n"
    start, end = subject_span(body, b"<b> ")  # type: ignore[misc]
    assert body[start:end] == b"<b> <p> 1 .\n<b> <q> 2 .\n"
    assert subject_span(body, b"<d> ") is None
    assert subject_span(body, b"<a> ") == (0, 12)


def test_gzip_members_are_deterministic_and_concatenate() -> None:
    assert gz(b"one") == gz(b"one")
    assert gzip.decompress(gz(b"one ") + gz(b"two")) == b"one two"
