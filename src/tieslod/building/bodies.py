"""Byte-level helpers on serializer output shared by parts.py and dumps.py (kept apart so that
neither imports the other)."""
from __future__ import annotations

from zlib_ng import gzip_ng

GZ_LEVEL = 6


def strip_prefixes(data: bytes) -> bytes:
    """Oxigraph writes @prefix lines first; the release writes them once, at the top."""
    lines = data.split(b"\n")
    i = 0
    while i < len(lines) and lines[i].startswith(b"@prefix "):
        i += 1
    return b"\n".join(lines[i:]).lstrip(b"\n")


def subject_span(body: bytes, token: bytes) -> tuple[int, int] | None:
    """Where the lines starting with token (a subject as written, and a space) lie in an N-Quads or
    N-Triples body sorted by subject (every chunk body is; both formats are one statement per line by
    their grammar), found by search instead of a pass over every line. None if no line starts so."""
    start = 0 if body.startswith(token) else body.find(b"\n" + token) + 1
    if start == 0 and not body.startswith(token):
        return None
    end = start
    while end < len(body) and body.startswith(token, end):
        end = body.find(b"\n", end) + 1 or len(body)
    return start, end


def gz(data: bytes) -> bytes:
    """One gzip member (mtime 0: same bytes every build). zlib-ng, not the stdlib's zlib: measured on
    N-Triples pieces at level 6, 114 MB/s and 7.8% of the size against 81 MB/s and 8.1%; compressing
    every piece was ~7 of the ~36 worker CPU-seconds of a 1M-quad build."""
    out: bytes = gzip_ng.compress(data, compresslevel=GZ_LEVEL, mtime=0)  # type: ignore[no-untyped-call]
    return out
