"""ETag / Last-Modified from the dataset version, and 304 on revalidation.

Every response we derive from a release changes only when the release does, so the release's
version (a content hash of its inputs) plus the variant (format, page) is a strong validator."""
from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

PAGE_CACHE = "public, max-age=300"
DUMP_CACHE = "public, max-age=86400"


@dataclass(frozen=True)
class Release:
    """What the web side needs from a release directory, read once per release."""

    path: Path | None            # None: a remote endpoint's release with no local copy (no dumps here)
    version: str
    manifest: dict[str, Any]
    mtime: float                 # when this release was written: our Last-Modified

    @property
    def last_modified(self) -> str:
        return formatdate(self.mtime, usegmt=True)

    def etag(self, variant: str) -> str:
        return f'"{self.version}-{variant}"'


@lru_cache(maxsize=8)
def _load(path: Path, stamp: float) -> Release:
    manifest_path = path / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return Release(path, manifest["version"], manifest, int(stamp))


def load_release(path: Path) -> Release:
    """The release at path (cached; a rebuilt release has a new manifest mtime and is re-read)."""
    stamp = (path / "manifest.json").stat().st_mtime
    return _load(path, stamp)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def is_fresh(request: Request, etag: str, mtime: float) -> bool:
    """True when the client's copy is current (If-None-Match first, then If-Modified-Since)."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = _etags(inm)
        return "*" in tags or etag.removeprefix("W/") in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            return int(mtime) <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def validator_headers(etag: str, last_modified: str, cache: str = PAGE_CACHE) -> dict[str, str]:
    return {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": cache}


def not_modified(headers: dict[str, str]) -> Response:
    """A 304 keeps the validators and caching headers but no body or Content-Type."""
    keep = {k: v for k, v in headers.items() if k.lower() in
            ("etag", "last-modified", "cache-control", "vary", "content-location", "link")}
    return Response(status_code=304, headers=keep)
