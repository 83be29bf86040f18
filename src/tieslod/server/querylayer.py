"""One query layer, two backends (issue 15): what create_app hands every route module as run_query and
release. Pages, search, reconcile, path, the picture and /sparql call these two and nothing else, so no
page knows whether the answers come from the embedded store or from a SPARQL database elsewhere.

- LocalBackend: the release directory under --out, queried in the query workers (workers.py).
- RemoteQueryBackend: `serve --sparql-endpoint URL`, queried over HTTP (backend.RemoteBackend); the
  release (version, counts, graphs) is read from the description `tieslod push` writes into
  <BASE>dataset, re-read every VERSION_TTL seconds; a new version empties the answer cache, and the
  search/reconcile/path indexes (keyed by version) are rebuilt from SPARQL answers on their next use.

Both apply the same policy before anything runs (guard.check: read-only, no SERVICE) and keep answers in
one AnswerCache keyed by (version, request): a version's answers never change."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from ..config import Settings
from ..errors import BackendError, BackendUnavailable, TiesError, UsageError
from ..publishing.push import release_graph
from ..querying.backend import RemoteBackend
from ..querying.policy import check, may_vary
from ..querying.store import Answer
from ..vocab import TL
from .answers import AnswerCache
from .budget import ClientBudget
from .context import QueryRequest
from .httpcache import Release, load_release
from .releases import ReleaseWatcher, complete
from .workers import QueryWorkers

log = logging.getLogger("tieslod.server")
WATCH_INTERVAL = 1.0   # seconds between looks at out_dir/current
VERSION_TTL = 5.0      # seconds between reads of the remote release description
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
# counts of the landing page, as the description names them (describe.describe)
COUNT_TERMS = {VOID + "triples": "triples", VOID + "entities": "entities", TL + "claimCount": "claims",
               TL + "tieCount": "ties", TL + "sourceCount": "sources"}


class QueryBackend(Protocol):
    """What create_app needs from a backend."""

    def current(self) -> Release: ...                       # the release answered from now (sync: headers)
    # deadline- and size-bounded, policy applied; client (an address): whose budget pays (server/budget.py),
    # None for the server's own page queries
    async def query(self, req: QueryRequest, client: str | None = None) -> Answer: ...
    async def start(self) -> None: ...                       # at lifespan start; never raises
    async def watch(self) -> None: ...                       # follow new releases until cancelled
    def refresh(self) -> None: ...                           # SIGHUP: look for a new release now
    async def aclose(self) -> None: ...


def _budget(settings: Settings, queue_wait: float) -> ClientBudget:
    concurrent = max(1, settings.workers - 1) if settings.client_concurrent is None else settings.client_concurrent
    return ClientBudget(settings.client_query_seconds, concurrent, queue_wait)


def _with_base(req: QueryRequest, settings: Settings) -> QueryRequest:
    # relative IRIs mean our own (issue 14: `PREFIX e: <id/>` in queries/*.rq)
    return req if req.base_iri is not None else dataclasses.replace(req, base_iri=settings.base_uri)


class LocalBackend:
    """The release directory under --out (built by the caller), queried in killable worker processes."""

    def __init__(self, settings: Settings, release: Path, cache_bytes: int) -> None:
        self.settings = settings
        self.watcher = ReleaseWatcher(settings.out_dir, release, settings)
        self.workers = QueryWorkers(settings.workers, settings.timeout, settings.max_result_bytes,
                                    memory_bytes=settings.worker_memory_bytes)
        self.cache = AnswerCache(cache_bytes)
        self.budget = _budget(settings, self.workers.queue_wait)
        self._served = self.watcher.current()   # the release the cache holds answers for

    def current(self) -> Release:
        return load_release(self.watcher.current())

    async def query(self, req: QueryRequest, client: str | None = None) -> Answer:
        req = _with_base(req, self.settings)
        release = self.watcher.current()
        if release != self._served:
            self.cache.clear()
            self._served = release
        key = (release, req)
        answer = self.cache.get(key)
        if answer is not None:
            return answer
        # SERVICE and updates are refused by the worker (guard.check in store.run_query): parsing
        # costs milliseconds and must not block the event loop; the worker has a deadline.
        if client is None:
            answer = await self.workers.run(release, req)
        else:
            async with self.budget.slot(client):
                answer = await self.workers.run(release, req)
        if not may_vary(req.query):
            self.cache.put(key, answer)
        return answer

    async def start(self) -> None:
        # every worker reports its own sandbox check: none that could connect is ever used
        await self.workers.start(self.watcher.current())
        with contextlib.suppress(TiesError):   # wait for a worker, so the first client does not
            await self.workers.run(self.watcher.current(), QueryRequest("ASK {}"))

    async def watch(self) -> None:
        await self.watcher.watch(WATCH_INTERVAL)

    def refresh(self) -> None:
        self.watcher.refresh()

    async def aclose(self) -> None:
        self.workers.stop()


class RemoteQueryBackend:
    """A SPARQL database elsewhere; the local --out is only read for dumps of the same version."""

    def __init__(self, settings: Settings, cache_bytes: int, version_ttl: float = VERSION_TTL) -> None:
        assert settings.sparql_endpoint
        self.settings, self.version_ttl = settings, version_ttl
        self.timeout = settings.sparql_timeout or settings.timeout
        self.dataset = release_graph(settings)
        self.remote = RemoteBackend(settings.sparql_endpoint, self.dataset, settings.sparql_auth, self.timeout,
                                    max_connections=settings.sparql_connections,
                                    max_result_bytes=settings.max_result_bytes, version_ttl=version_ttl)
        self.cache = AnswerCache(cache_bytes)
        self.budget = _budget(settings, 2 * self.timeout)
        self._info: Release | None = None
        self._wake = asyncio.Event()

    def current(self) -> Release:
        if self._info is None:
            raise BackendUnavailable("this front end has not yet read the release from its SPARQL endpoint "
                                     f"({self.settings.sparql_endpoint}); try again shortly",
                                     self.remote.retry_after)
        return self._info

    async def sync(self) -> Release:
        """The endpoint's release; a new version empties the cache (re-read at most every version_ttl)."""
        found = await self.remote.release()
        if self._info is None or found.version != self._info.version:
            info = await self._describe(found.version)
            if self._info is not None:
                log.info("the SPARQL endpoint now holds release %s (was %s)", info.version, self._info.version)
            self.cache.clear()
            self._info = info
        return self._info

    async def _describe(self, version: str) -> Release:
        answer = await self.remote.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{self.dataset}> {{ ?s ?p ?o }} }}",
                                         graph_format="ntriples", named_graph_uris=(self.dataset,))
        triples = list(ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES))
        local = self.settings.out_dir / "current"
        if complete(local):   # a local release of the same version: its dumps are served
            release = load_release(local.resolve())
            if release.version == version:
                return release
        manifest = description_manifest(self.dataset, version, triples)
        manifest["description"] = answer.body   # N-Triples, for /.well-known/void
        return Release(None, version, manifest, time.time())

    async def query(self, req: QueryRequest, client: str | None = None) -> Answer:
        req = _with_base(req, self.settings)
        # the policy, before anything is forwarded (RemoteBackend checks again); the parse can take
        # milliseconds, so off the event loop
        seen = await asyncio.to_thread(check, req.query)
        try:
            version = (await self.sync()).version
        except BackendError:
            # the database is unreachable: what was already answered for the last version known is still
            # right (a version's answers never change), so it is served; anything else fails as it should
            stale = self.cache.get((self._info.version, req)) if self._info is not None else None
            if stale is None:
                raise
            return stale
        key = (version, req)
        answer = self.cache.get(key)
        if answer is not None:
            return answer
        async with contextlib.AsyncExitStack() as stack:
            if client is not None:   # the same per-client budget as the local backend (issue 11)
                await stack.enter_async_context(self.budget.slot(client))
            answer = await self.remote.query(req.query, req.result_format, req.graph_format,
                                             req.default_graph_uris, req.named_graph_uris, base_iri=req.base_iri,
                                             own=client is None)
        if not seen.volatile:
            self.cache.put(key, answer)
        return answer

    async def start(self) -> None:
        try:
            await self.sync()
        except TiesError as exc:   # pages answer 503 until the endpoint is back; watch() keeps trying
            log.warning("cannot read the release from %s yet: %s", self.settings.sparql_endpoint, exc)

    async def watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.version_ttl)
            self._wake.clear()
            with contextlib.suppress(TiesError):
                await self.sync()

    def refresh(self) -> None:
        self.remote._release = None   # forget the cached version: the next sync asks again
        self._wake.set()

    async def aclose(self) -> None:
        await self.remote.aclose()


def description_manifest(dataset: str, version: str, triples: list[ox.Triple]) -> dict[str, Any]:
    """The parts of a manifest.json the pages use, from the pushed VoID description."""
    ds = ox.NamedNode(dataset)
    counts: dict[str, int] = {}
    names: dict[ox.NamedNode, str] = {}      # subset node -> graph name (push names subsets by IRI)
    sizes: dict[ox.NamedNode, int] = {}
    dumps = []
    for s, p, o in ((t.subject, t.predicate.value, t.object) for t in triples):
        if s == ds and p in COUNT_TERMS and isinstance(o, ox.Literal):
            counts[COUNT_TERMS[p]] = int(o.value)
        elif s == ds and p == VOID + "dataDump" and isinstance(o, ox.NamedNode):
            dumps.append(o.value)
        elif p == SD + "name" and isinstance(o, ox.NamedNode) and isinstance(s, ox.NamedNode):
            names[s] = o.value
        elif p == VOID + "triples" and s != ds and isinstance(o, ox.Literal) and isinstance(s, ox.NamedNode):
            sizes[s] = int(o.value)
    graphs = {str(s.value).rsplit("/", 1)[-1]: {"iri": iri, "quads": sizes.get(s, 0)} for s, iri in names.items()}
    return {"version": version, "counts": counts, "graphs": graphs, "files": [], "remote_dumps": sorted(dumps),
            "release_name": None}


def make_backend(settings: Settings, release: Path | None) -> QueryBackend:
    if settings.sparql_endpoint:
        return RemoteQueryBackend(settings, settings.cache_bytes)
    if release is None:
        raise UsageError("no release to serve: build one first (tieslod build), or give --sparql-endpoint")
    return LocalBackend(settings, release, settings.cache_bytes)

