"""Settings: one frozen dataclass holding every option, validated once, built once by the CLI and passed
down; its defaults are the CLI's defaults (cli.py reads DEFAULTS). Nothing reads the environment later."""
from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

from .errors import UsageError

__version__ = "0.1.0"   # part of every cache key and manifest; pyproject.toml holds the same
DEFAULT_BASE_URI = "https://w3id.org/tieslod/"
ONTOLOGY_NS = "https://w3id.org/tieslod/ontology#"
ONTOLOGY_IRI = "https://w3id.org/tieslod/ontology"

_HERE = Path(__file__).resolve().parent


def project_dir(name: str) -> Path:
    """A top-level folder shipped with the package: `data`, `ontology` or `shapes`.

    An installed wheel carries them under `tieslod/bundled/`; a source checkout has them at the repo root.
    """
    for candidate in (_HERE / "bundled" / name, _HERE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise UsageError(f"cannot find the bundled {name}/ folder next to {_HERE}")


@dataclass(frozen=True)
class Settings:
    """Everything a build or a server needs to know, in one place."""

    data_dir: Path = field(default_factory=lambda: project_dir("data"))
    out_dir: Path = Path("build")
    base_uri: str = DEFAULT_BASE_URI
    ontology_dir: Path = field(default_factory=lambda: project_dir("ontology"))
    shapes_dir: Path = field(default_factory=lambda: project_dir("shapes"))
    release_name: str = "unreleased"
    # server
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2                   # query worker processes per HTTP process
    http_workers: int = 1              # HTTP server processes (granian)
    access_log: bool = True            # one line per request on stderr
    cache_bytes: int = 64_000_000      # memory for answers to repeated queries (0: none)
    timeout: float = 10.0
    max_body_bytes: int = 1_000_000
    max_result_bytes: int = 100_000_000
    # the memory one query worker may use (heap: Oxigraph's sorts and joins); past it the query
    # is stopped with 503 instead of taking the machine's memory (0: no limit). docs/security.md
    worker_memory_bytes: int = 2_000_000_000
    public_url: str | None = None      # the server's own origin, when entity URIs live elsewhere
    # HTTP limits (README, "Limits"): the first four are granian's (hyper's), the rest server/limits.py's
    max_header_bytes: int = 81_920     # request line + headers (a 64 KiB URL must fit): 431 past it
    header_timeout: float = 10.0       # for a request's headers, and for the next one on an idle connection
    max_in_flight: int = 256           # requests in progress per HTTP process; more wait to be read
    body_timeout: float = 30.0         # to receive a whole request body: 408 past it
    send_timeout: float = 30.0         # a response the client takes nothing of for this long is cut off
    max_accept_bytes: int = 4_096      # an Accept header longer than this gets 431 (negotiation cost)
    max_url_bytes: int = 65_000        # path + query: 414 past it (hyper's own limit is 65,534)
    # per-client query budget (server/budget.py): 0 turns a limit off
    client_query_seconds: float = 60.0    # worker seconds one client may use per minute
    client_concurrent: int | None = None  # queries one client may run at once (None: workers - 1, at least 1)
    trust_forwarded_for: bool = False     # identify clients by X-Forwarded-For (behind a proxy only)
    # a remote SPARQL database instead of the local store (issue 15): `serve --sparql-endpoint`
    sparql_endpoint: str | None = None
    sparql_auth: str | None = None     # user:password (Basic or Digest, as the server asks)
    sparql_timeout: float | None = None   # per query, seconds; None: `timeout`
    sparql_connections: int = 8        # bounds the queries in flight per front-end process

    def __post_init__(self) -> None:
        if not self.base_uri.endswith(("/", "#")):
            raise UsageError(f"--base-uri must end with '/' (got {self.base_uri!r})")
        if not self.base_uri.startswith(("http://", "https://")):
            raise UsageError(f"--base-uri must be an http(s) URI (got {self.base_uri!r})")
        if self.timeout <= 0:
            raise UsageError("--timeout must be positive")
        if self.workers < 1:
            raise UsageError("--workers must be at least 1")
        if self.http_workers < 1:
            raise UsageError("--http-workers must be at least 1")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be between 0 and 65535 (got {self.port})")
        if self.max_result_bytes < 1:
            raise UsageError("--max-result-bytes must be positive")
        if self.cache_bytes < 0:
            raise UsageError("--cache-mb cannot be negative")
        if self.worker_memory_bytes < 0:
            raise UsageError("--worker-memory-mb cannot be negative")
        if self.max_header_bytes < 8192:
            raise UsageError("--max-header-bytes must be at least 8192")
        for name in ("header_timeout", "body_timeout", "send_timeout"):
            if getattr(self, name) <= 0:
                raise UsageError(f"--{name.replace('_', '-')} must be positive")
        for name in ("max_in_flight", "max_accept_bytes", "max_body_bytes", "max_url_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        if self.client_query_seconds < 0 or (self.client_concurrent or 0) < 0:
            raise UsageError("--client-query-seconds and --client-concurrent cannot be negative")
        if self.sparql_timeout is not None and self.sparql_timeout <= 0:
            raise UsageError("--sparql-timeout must be positive")
        if self.sparql_connections < 1:
            raise UsageError("--sparql-connections must be at least 1")
        if self.sparql_endpoint is not None and not self.sparql_endpoint.startswith(("http://", "https://")):
            raise UsageError(f"--sparql-endpoint must be an http(s) URL (got {self.sparql_endpoint!r})")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    # derived IRIs
    def iri(self, path: str) -> str:
        return self.base_uri + path

    def graph_iri(self, key: str) -> str:
        return self.base_uri + "graph/" + key


def _defaults() -> Settings:
    """Every field's default, without resolving the bundled folders (the CLI's help needs no data/)."""
    values = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}
    return Settings(**values, data_dir=Path("data"), ontology_dir=Path("ontology"), shapes_dir=Path("shapes"))


# The CLI's defaults: one source, read by cli.py's option declarations.
DEFAULTS = _defaults()
