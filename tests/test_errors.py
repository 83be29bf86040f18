"""One exception hierarchy: every exception class lives in errors.py, carries an exit code and an
HTTP status, and `outcome` is the one mapping the CLI and the server use."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import tieslod
from tieslod import errors
from tieslod.errors import (
    InternalError,
    NonConformance,
    NotAcceptableResult,
    Problem,
    QueryTimeout,
    TiesError,
    UsageError,
    outcome,
)

PACKAGE = Path(tieslod.__file__).parent


def all_modules() -> list[object]:
    return [importlib.import_module(m.name) for m in pkgutil.walk_packages(tieslod.__path__, "tieslod.")
            if m.name != "tieslod.__main__"]   # importing it runs the CLI


def test_every_exception_class_is_in_errors_py() -> None:
    outside = sorted(f"{module.__name__}.{name}" for module in all_modules()
                     for name, obj in vars(module).items()
                     if inspect.isclass(obj) and issubclass(obj, BaseException)
                     and obj.__module__ == module.__name__ and module is not errors)
    assert outside == []


def test_every_error_carries_an_exit_code_and_a_status() -> None:
    classes = [obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, TiesError)]
    assert len(classes) >= 20
    for cls in classes:
        assert cls.exit_code in (1, 2, 3), cls
        assert 400 <= cls.http_status <= 599, cls


def test_outcome() -> None:
    assert outcome(UsageError("x")) == (2, 400)
    assert outcome(NonConformance("x")) == (1, 422)
    assert outcome(NotAcceptableResult("x")) == (2, 406)
    assert outcome(QueryTimeout("x")) == (3, 503)
    assert outcome(Problem(413, "too big")) == (2, 413)
    assert outcome(InternalError("x")) == (3, 500)
    assert outcome(KeyError("a bug")) == (3, 500)


def test_cli_and_server_map_through_outcome() -> None:
    for path in (PACKAGE / "cli.py", PACKAGE / "server" / "sparql.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert "outcome" in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}, path
