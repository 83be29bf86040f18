"""What a query asks for, decided on its parse tree: SERVICE anywhere, an update, FROM.

pyoxigraph has no algebra API and performs `SERVICE <iri>` over HTTP (measured: the request reaches
a loopback listener), so a query that may hold SERVICE is parsed by rdflib's SPARQL 1.1 grammar and
the whole parse tree walked: sub-selects, EXISTS inside FILTER, nested groups, every query form.

The parser must read the text as Oxigraph does; spargebra's grammar (0.5) and rdflib's lexers differ in
two ways that matter, each of which hid a SERVICE from rdflib (tests/test_guard.py):
- Oxigraph decodes \\u and \\U escapes only inside IRIs and strings, as their content; rdflib decodes
  them everywhere before lexing, so an escaped quote or backslash ends or prolongs a string for one
  and not the other. An escape is content, never structure, so the parser is given each escape
  replaced by as many plain letters (positions in error messages stay right).
- Oxigraph ends a comment at CR or LF, rdflib only at LF: a CR is given to the parser as LF.
The parse costs 1-9 ms (measured; more under load), more than most queries, so it is skipped when
the letters of SERVICE and FROM appear nowhere in the text: Oxigraph reads keywords only as plain
ASCII letters, in any case, so neither can be there. Nothing rests on this module alone: query workers cannot open a
network socket at all (server/sandbox.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql import parser as rdflib_sparql

from ..errors import QueryError, ServiceRefused, UpdateRefused

# A backslash and what it escapes, left to right as Oxigraph's tokens take them: in a string, a
# backslash, a backslash and u0041 is an escaped backslash and four letters, not a \u escape.
_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_VOLATILE = re.compile(r"rand|now|uuid|bnode", re.IGNORECASE)   # RAND NOW UUID STRUUID BNODE


@dataclass(frozen=True)
class Inspection:
    service: bool        # a SERVICE pattern anywhere
    update: bool         # the text is a SPARQL Update
    dataset: bool        # FROM / FROM NAMED: the query names its own dataset
    volatile: bool       # may use RAND(), NOW(), UUID()...: two runs may answer differently


def oxigraph_view(query: str) -> str:
    """The text as Oxigraph's lexer splits it, for rdflib: escapes as letters, CR as LF."""
    return _ESCAPE.sub(_as_letters, query).replace("\r", "\n")


def _as_letters(match: re.Match[str]) -> str:
    text = match.group()
    return "u" * len(text) if len(text) > 2 else text   # \uXXXX, \UXXXXXXXX; other pairs kept


def may_vary(query: str) -> bool:
    """True when the query may call RAND/NOW/UUID/STRUUID/BNODE (a superset: used to skip caching)."""
    return _VOLATILE.search(query) is not None


def _walk(tree: object) -> tuple[bool, bool]:
    """(SERVICE found, FROM found) anywhere in an rdflib parse tree (iterative: trees can be deep)."""
    service = dataset = False
    stack: list[object] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, str):      # rdflib terms and keywords are str subclasses
            continue
        if isinstance(node, dict):     # CompValue / Expr: a named grammar rule
            name = getattr(node, "name", "")
            service = service or name == "ServiceGraphPattern"
            dataset = dataset or name == "DatasetClause"
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, ParseResults)):
            stack.extend(node)
    return service, dataset


def _syntax_error(exc: ParseBaseException, view: str) -> QueryError:
    # rdflib fails a SERVICE pattern that follows a '#' inside an IRI (its parse action re-scans the
    # text for the pattern and takes that '#' for a comment): a parse that stops at the SERVICE
    # keyword is refused as SERVICE, not as a syntax error the client did not make.
    if view[exc.loc:exc.loc + 7].upper() == "SERVICE":
        return _service_refused()
    # Oxigraph's own wording ("error at LINE:COL: ..."); the parser's message names what it expected.
    return QueryError(f"SPARQL syntax error: error at {exc.lineno}:{exc.column}: {exc.msg}")


def _service_refused() -> ServiceRefused:
    return ServiceRefused("SERVICE (federated query) is not allowed here: this endpoint makes no "
                          "outbound requests; query the other endpoint yourself")


def parse(query: str) -> tuple[bool, bool, bool]:
    """(service, dataset, update) from rdflib's parse of Oxigraph's view; QueryError if unreadable."""
    view = oxigraph_view(query)
    try:
        tree = rdflib_sparql.Query.parse_string(view, parse_all=True)
    except ParseBaseException as exc:
        try:
            rdflib_sparql.UpdateUnit.parse_string(view, parse_all=True)
        except (ParseBaseException, RecursionError):
            raise _syntax_error(exc, view) from None
        return False, False, True
    except RecursionError:
        raise QueryError("SPARQL syntax error: the query is nested too deeply to be read") from None
    return (*_walk(tree), False)


def inspect(query: str) -> Inspection:
    lowered = query.lower()
    if "service" not in lowered and "from" not in lowered:
        return Inspection(False, False, False, may_vary(query))
    service, dataset, update = parse(query)
    return Inspection(service, update, dataset, may_vary(query))


def is_update(query: str) -> bool:
    """Whether a text Oxigraph refused as a query is an update (for the read-only message)."""
    try:
        rdflib_sparql.UpdateUnit.parse_string(oxigraph_view(query), parse_all=True)
    except (ParseBaseException, RecursionError):
        return False
    return True


READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted here"


def check(query: str) -> Inspection:
    """inspect(query), refusing SERVICE and updates with a message for the client."""
    seen = inspect(query)
    if seen.update:
        raise UpdateRefused(READ_ONLY)
    if seen.service:
        raise _service_refused()
    return seen


# The lexer of dataset_position only (placing FROM clauses for a remote backend; the SERVICE/update
# decision is made on the parse tree above). IRIs may hold \u escapes, as Oxigraph reads them.
_TOKEN = re.compile(r"""
    (?P<skip>
        \#[^\r\n]*                                   # comment
      | '''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)         # long strings (unterminated: to the end)
      | \"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|\Z)
      | '(?:[^'\\\r\n]|\\.)*'                        # short strings
      | "(?:[^"\\\r\n]|\\.)*"
      | <(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>   # IRIREF
      | [?$][\w\u00b7\u0300-\u036f\u203f-\u2040]*    # variables
      | [\w\-.]*:(?:[\w\-.:%]|\\.)*                  # prefixed names (a keyword never has a colon)
      | \\.                                          # an escape outside a string (PN_LOCAL_ESC)
    )
  | (?P<word>[A-Za-z_][\w\-]*)
  | [^\w#'"<?$:\\]+ | .
""", re.VERBOSE | re.DOTALL)

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


def named_graphs_used(query: str) -> frozenset[str] | None:
    """The graphs a query's GRAPH patterns name, as absolute IRIs written out (same lexer as
    dataset_position): an empty set where it has no GRAPH pattern, None where one of them takes a
    variable, a prefixed name, a relative IRI or an escape, i.e. may mean any named graph."""
    names: set[str] = set()
    tokens = [m for m in _TOKEN.finditer(query) if not (m.group().isspace() or m.group().startswith("#"))]
    for index, match in enumerate(tokens):
        if (match.group("word") or "").upper() != "GRAPH":
            continue
        following = tokens[index + 1].group() if index + 1 < len(tokens) else ""
        iri = following[1:-1]
        if not (following.startswith("<") and following.endswith(">") and ":" in iri and "\\" not in iri):
            return None
        names.add(iri)
    return frozenset(names)
