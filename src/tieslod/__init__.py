"""tieslod: what reporting says about ties between people and organisations, as Linked Open Data.

The public API (one example each in docs/architecture.md):

    from tieslod import Settings, build, validate, export, query, create_app
    settings = Settings()                     # the bundled data, ./build
    validate(settings).conforms               # SHACL + quote checks, no build
    build(settings).release_dir               # every dump, the store, the description
    export(settings, "turtle")                # bytes of one dump
    query(settings, "ASK { ?s ?p ?o }", "json")
    create_app(settings, build(settings).release_dir)   # the ASGI app over a built release
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Settings, __version__
from .errors import TiesError

__all__ = ["Settings", "TiesError", "__version__", "add_source", "build", "create_app", "diff", "export",
           "ledger", "path", "push", "query", "quote", "reconcile", "release", "serve", "validate"]

if TYPE_CHECKING:
    from .api import (
        add_source,
        build,
        diff,
        export,
        ledger,
        path,
        push,
        query,
        quote,
        reconcile,
        release,
        serve,
        validate,
    )
    from .server.app import create_app

_API = {"add_source", "build", "diff", "export", "ledger", "path", "push", "query", "quote", "reconcile", "release",
        "serve", "validate"}


def __getattr__(name: str) -> Any:
    """The API functions, imported on first use (PEP 562): `import tieslod.config` in a query worker
    or the CLI's --help then does not load pyshacl, rdflib and the server."""
    if name in _API:
        from . import api
        return getattr(api, name)
    if name == "create_app":
        from .server.app import create_app
        return create_app
    raise AttributeError(f"module 'tieslod' has no attribute {name!r}")
