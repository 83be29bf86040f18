"""Every exception tieslod raises on purpose, each with its exit code and HTTP status; `outcome`
maps any exception to both, for the CLI and the server alike (docs/architecture.md, README "Exit codes")."""
from __future__ import annotations

import errno
from pathlib import Path
from typing import NamedTuple


class TiesError(Exception):
    """Base of every error tieslod raises on purpose."""

    exit_code = 3
    http_status = 500


class UsageError(TiesError):
    """A bad option, an unknown format, a missing file: the caller's to fix."""

    exit_code = 2
    http_status = 400


class IncompleteRelease(UsageError):
    """A release directory without a complete manifest (a build that died, a disk that lost data)."""

    def __init__(self, message: str, path: Path | str | None = None, problem: str = "") -> None:
        super().__init__(message)
        self.path, self.problem = path, problem


class InputError(TiesError):
    """Input data that cannot be read, with the file and position it comes from."""

    exit_code = 2
    http_status = 400

    def __init__(self, message: str, path: Path | str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.path, self.line, self.column = path, line, column
        self.message = message
        where = ""
        if path is not None:
            where = str(path)
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(where + message)

    def __reduce__(self) -> tuple[object, ...]:
        # keep path/line/column when raised in a build worker process and re-raised in the parent
        return (self.__class__, (self.message, self.path, self.line, self.column))


class QuoteError(InputError):
    """A claim's quote is not found exactly once in its source text."""


class GroundingError(InputError):
    """An as-printed qualifier of a claim is not printed in that claim's own evidence sentence(s)
    (docs/authoring.md, "Grounding"): the message names the claim, the qualifier and its value."""


class NonConformance(TiesError):
    """The data was read but does not conform to the shapes."""

    exit_code = 1
    http_status = 422

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class LedgerError(NonConformance):
    """A URI in the ledger is neither published nor accounted for in the lifecycle file."""


class QueryError(TiesError):
    """A SPARQL query that cannot be parsed or evaluated."""

    exit_code = 2
    http_status = 400


class ServiceRefused(QueryError):
    """SERVICE would make the server open a connection of a client's choosing."""


class UpdateRefused(QueryError):
    """The endpoint is read-only."""


class NotAcceptableResult(QueryError):
    """The query's kind (bindings or graph) has no format the client accepts."""

    http_status = 406


class NotAcceptable(UsageError):
    """Nothing we offer matches the Accept header (406)."""

    http_status = 406


class UnknownFormat(UsageError):
    """?format= names nothing we offer (400)."""


class Problem(UsageError):
    """An HTTP error with a message for the client; its status is the instance's own."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
        self.http_status = status


class QueryTimeout(TiesError):
    """A query ran past its deadline and was stopped."""

    exit_code = 3
    http_status = 503


class ServerBusy(QueryTimeout):
    """Every worker stayed busy for the whole queue wait: the query was never started."""


class QueryMemoryExceeded(QueryTimeout):
    """A query needed more memory than a query worker may use, and was stopped (like a deadline)."""


class ResultTooLarge(TiesError):
    """A query result exceeded the configured size limit."""

    exit_code = 3
    http_status = 503


class RetryLater(TiesError):
    """An answer the client may ask for again later: `retry_after` (seconds, or None: the server's
    default) goes into the Retry-After header. Kept when raised in a worker and re-raised here."""

    exit_code = 3

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        return (self.__class__, (str(self), self.retry_after))


class BackendError(RetryLater):
    """The remote SPARQL endpoint a front end reads failed to answer properly: 502 Bad Gateway
    (or, for the subclasses, 503/504)."""

    http_status = 502


class BackendUnavailable(BackendError):
    """The remote endpoint cannot be reached, says it is overloaded, or every connection is busy."""

    http_status = 503


class BackendTimeout(BackendError):
    """The remote endpoint did not answer within the front end's deadline."""

    http_status = 504


class TooManyRequests(RetryLater):
    """A client is over its query budget (HTTP 429, with Retry-After in seconds)."""

    http_status = 429


class DiskFull(TiesError):
    """No space left (or a file size limit reached) while building: nothing was published."""

    exit_code = 2
    http_status = 507


class DamagedCache(TiesError):
    """A build cache entry whose checksum does not hold (build.build runs once more, remaking it)."""

    exit_code = 3


class DamagedEntry(DamagedCache):
    """One cache entry whose bytes are not those written (its path in args[0]); caught inside
    building/cache.py, which drops the entry."""


class PushError(TiesError):
    """The Graph Store endpoint refused or lost data."""

    exit_code = 3
    http_status = 502


class UnsupportedShape(TiesError):
    """The shapes use something the compiled checks do not implement: pyshacl checks them instead."""


class InternalError(TiesError):
    """A bug: anything unexpected."""

    exit_code = 3


class SandboxError(InternalError):
    """The query workers' network sandbox (seccomp) cannot be installed on this machine."""


EXIT_OK = 0


class Outcome(NamedTuple):
    exit_code: int
    http_status: int


def outcome(exc: BaseException) -> Outcome:
    """The exit code and HTTP status for an exception: the class's own, or 3 / 500 for anything
    unexpected (a bug). The one mapping the CLI and the server use."""
    if isinstance(exc, TiesError):
        return Outcome(exc.exit_code, exc.http_status)
    return Outcome(InternalError.exit_code, InternalError.http_status)


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def disk_full(exc: BaseException | None) -> OSError | None:
    """The OSError behind exc saying the disk is full (or a file size limit was reached), if any.
    (RocksDB's errors come as OSError with its own text and no errno.)"""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and (exc.errno in _FULL or "No space left on device" in str(exc)
                                         or "File too large" in str(exc)):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None
