"""What a query text asks for, read lexically before it reaches a worker: SERVICE, an update, FROM.

pyoxigraph has no algebra API, and its `Store.query` opens an HTTP connection for `SERVICE <iri>`
(measured: the request reaches a loopback listener), so SERVICE must be refused before evaluation.
The scan mirrors SPARQL's lexer where it matters: comments, strings, IRIs and prefixed names are
skipped whole, so `"SERVICE"`, `<http://x/SERVICE>`, `ex:service` and `?service` are not the keyword.
Where the lexer is ambiguous the scan errs towards seeing a keyword (e.g. `ex:a.service` trips
it): a false 400 with a clear message is acceptable, an outbound connection is not. Keywords are
ASCII-case-insensitive and oxigraph does not apply \\u escapes outside strings and IRIs (checked),
so a keyword cannot be spelled in a way this scan misses."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import QueryError

_TOKEN = re.compile(r"""
    (?P<skip>
        \#[^\r\n]*                                   # comment
      | '''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)         # long strings (unterminated: to the end)
      | \"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|\Z)
      | '(?:[^'\\\r\n]|\\.)*'                        # short strings
      | "(?:[^"\\\r\n]|\\.)*"
      | <[^<>"{}|^`\\\x00-\x20]*>                    # IRIREF
      | [?$][\w\u00b7\u0300-\u036f\u203f-\u2040]*    # variables
      | [\w\-.]*:(?:[\w\-.:%]|\\.)*                  # prefixed names (a keyword never has a colon)
      | \\.                                          # an escape outside a string (PN_LOCAL_ESC)
    )
  | (?P<word>[A-Za-z_][\w\-]*)
  | [^\w#'"<?$:\\]+ | .
""", re.VERBOSE | re.DOTALL)

VOLATILE_FUNCTIONS = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE"})
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})
QUERY_KEYWORDS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})


class ServiceRefused(QueryError):
    """SERVICE would make the server open a connection of a client's choosing."""


class UpdateRefused(QueryError):
    """The endpoint is read-only."""


@dataclass(frozen=True)
class Inspection:
    service: bool        # a SERVICE keyword anywhere
    update: bool         # the first keyword after the prologue starts an update
    dataset: bool        # FROM / FROM NAMED: the query names its own dataset
    volatile: bool       # RAND(), NOW(), UUID()...: two runs may answer differently


def inspect(query: str) -> Inspection:
    service = update = dataset = volatile = False
    form: str | None = None
    for match in _TOKEN.finditer(query):
        word = match.group("word")
        if word is None:
            continue
        upper = word.upper()
        if form is None and upper not in ("PREFIX", "BASE"):
            form = upper
            update = upper in UPDATE_KEYWORDS
        if upper == "SERVICE":
            service = True
        elif upper == "FROM":
            dataset = True
        elif upper in VOLATILE_FUNCTIONS:
            volatile = True
    return Inspection(service, update, dataset, volatile)


def check(query: str) -> Inspection:
    """inspect(query), refusing SERVICE and updates with a message for the client."""
    seen = inspect(query)
    if seen.update:
        raise UpdateRefused("this endpoint is read-only: SPARQL Update is not accepted here")
    if seen.service:
        raise ServiceRefused("SERVICE (federated query) is not allowed here: this endpoint makes no "
                             "outbound requests; query the other endpoint yourself")
    return seen


_MODIFIERS = frozenset({"GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"})


def dataset_position(query: str) -> int:
    """Where FROM / FROM NAMED clauses go in a query that has none: before its WHERE clause (the first
    `WHERE` or `{` outside the projection's parentheses and, for CONSTRUCT, after the template), or, for
    a DESCRIBE without one, before its solution modifiers or at the end. Same lexer as inspect()."""
    form: str | None = None
    parens = braces = 0
    template_done = False
    for match in _TOKEN.finditer(query):
        word = match.group("word")
        if match.group("skip") is not None:
            continue
        if word is not None:
            upper = word.upper()
            if form is None:
                form = None if upper in ("PREFIX", "BASE") else upper
            elif parens == braces == 0 and (upper == "WHERE" or (form == "DESCRIBE" and upper in _MODIFIERS)):
                return match.start()
            continue
        for offset, char in enumerate(match.group()):
            if form is None:
                break
            if char == "(":
                parens += 1
            elif char == ")":
                parens -= 1
            elif char == "{" and parens == 0:
                if form == "CONSTRUCT" and not template_done and braces == 0:
                    braces = 1     # the template: the dataset clauses follow it
                    continue
                if braces == 0:
                    return match.start() + offset
                braces += 1
            elif char == "}" and braces:
                braces -= 1
                if braces == 0 and form == "CONSTRUCT":
                    template_done = True
    return len(query)
