"""The layout is the architecture: imports point one way, no circles (every import counts, including
function-level and TYPE_CHECKING ones), only api.py builds, create_app builds nothing.

    cli -> api -> server -> curation, publishing -> querying -> building -> validation -> model -> base
    (base: config, errors, formats, vocab, httpauth, table)
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "tieslod"
BASE = {"config", "errors", "formats", "vocab", "httpauth", "table"}
# a layer may import its own layer and any lower one; curation and publishing are peers (neither
# imports the other)
RANK = {"model": 1, "validation": 2, "building": 3, "querying": 4, "publishing": 5, "curation": 5,
        "server": 6, "api": 7, "cli": 8, "__main__": 9}
TOP_LEVEL_MAX = 12


def module_files() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported_modules(name: str, path: Path, modules: set[str]) -> set[str]:
    """Every tieslod module `name` imports anywhere in its file (the module itself excluded); an import
    of a name from a package counts as an import of that submodule when there is one."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names} & modules
            targets.update(submodules)
            if len(submodules) < len(node.names):   # `from pkg import mod` alone imports mod, not pkg's names
                targets.add(module)
    found = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layer(name: str) -> tuple[str, int]:
    """(layer, rank) of a module: the package root (it re-exports the API) ranks above everything."""
    if name == "tieslod":
        return "tieslod", 10
    first = name.split(".")[1]
    return (first, 0) if first in BASE else (first, RANK[first])


def against_the_order(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for name, targets in sorted(graph.items()):
        mine, rank = layer(name)
        for target in sorted(targets):
            theirs, other = layer(target)
            if theirs != mine and (other > rank or (other == rank and rank > 0)):
                wrong.append(f"{name} imports {target}")
    return wrong


def test_every_module_has_a_layer() -> None:
    for name in import_graph():
        layer(name)   # a KeyError names a folder or top-level module the layer order does not know


def test_no_import_circles() -> None:
    assert circles(import_graph()) == []


def test_imports_point_one_way() -> None:
    assert against_the_order(import_graph()) == []


def test_the_checks_can_fail() -> None:
    graph = {"tieslod.building.dumps": {"tieslod.building.parts"}, "tieslod.building.parts": {"tieslod.building.dumps"},
             "tieslod.model.graph": {"tieslod.querying.store"}, "tieslod.querying.store": set()}
    assert circles(graph) == [["tieslod.building.dumps", "tieslod.building.parts"]]
    assert against_the_order(graph) == ["tieslod.model.graph imports tieslod.querying.store"]
    assert against_the_order({"tieslod.curation.x": {"tieslod.publishing.y"}, "tieslod.publishing.y": set()})


def names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
            | {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names})


def test_only_api_builds() -> None:
    """Everything below api.py is handed a built release; building when inputs changed is api's call."""
    callers = sorted(name for name, path in module_files().items()
                     if "ensure_built" in names_used(path) and name not in ("tieslod.api", "tieslod.building.release"))
    assert callers == []


def test_create_app_builds_nothing_and_names_its_routes() -> None:
    app_file = PACKAGE / "server" / "app.py"
    used = names_used(app_file)
    assert not used & {"ensure_built", "build", "importlib", "import_module"}
    tree = ast.parse(app_file.read_text(encoding="utf-8"))
    create = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "create_app")
    assert [a.arg for a in create.args.args[:2]] == ["settings", "release"]
    assert {"sparql", "extras", "pages"} <= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                                              and n.level == 1 and n.module is None for a in n.names}


def test_few_modules_at_the_top() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(top) <= TOP_LEVEL_MAX, top


# tests mirror modules: src/tieslod/<pkg>/<module>.py is tested in tests/<pkg>/test_<module>.py
TESTS = Path(__file__).resolve().parent
MIRROR_MIN = 0.80


def mirrored(package: Path, tests: Path) -> tuple[list[str], list[str]]:
    """The modules (``__init__`` left out) with a mirrored test file that holds a test, and those without."""
    have: list[str] = []
    lack: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        rel = path.relative_to(package)
        mirror = tests / rel.parent / f"test_{rel.name}"
        holds_a_test = mirror.is_file() and any(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
            for node in ast.parse(mirror.read_text(encoding="utf-8")).body)
        (have if holds_a_test else lack).append(rel.with_suffix("").as_posix())
    return have, lack


def mirror_shortfall(package: Path, tests: Path, minimum: float) -> str | None:
    """None when at least `minimum` of the modules have a mirrored test file, else what is missing."""
    have, lack = mirrored(package, tests)
    ratio = len(have) / max(len(have) + len(lack), 1)
    if ratio >= minimum:
        return None
    return (f"{len(have)} of {len(have) + len(lack)} modules ({ratio:.0%}) have a tests/<pkg>/test_<module>.py, "
            f"under {minimum:.0%}; without one: {', '.join(lack)}")


def test_tests_mirror_modules() -> None:
    assert mirror_shortfall(PACKAGE, TESTS, MIRROR_MIN) is None


def test_the_mirror_check_can_fail(tmp_path: Path) -> None:
    package, tests = tmp_path / "pkg", tmp_path / "tests"
    for name in ("__init__", "top", "sub/__init__", "sub/a", "sub/b", "sub/c"):
        (package / f"{name}.py").parent.mkdir(parents=True, exist_ok=True)
        (package / f"{name}.py").write_text("")
    (tests / "sub").mkdir(parents=True)
    (tests / "test_top.py").write_text("def test_top() -> None:\n    pass\n")
    (tests / "sub" / "test_a.py").write_text("def test_a() -> None:\n    pass\n")
    (tests / "sub" / "test_b.py").write_text("def helper() -> None:\n    pass\n")   # holds no test
    assert mirrored(package, tests) == (["sub/a", "top"], ["sub/b", "sub/c"])
    assert mirror_shortfall(package, tests, 0.5) is None
    assert mirror_shortfall(package, tests, 0.8) == (
        "2 of 4 modules (50%) have a tests/<pkg>/test_<module>.py, under 80%; without one: sub/b, sub/c")


@pytest.mark.parametrize("name", ["Settings", "build", "validate", "export", "query", "create_app", "TiesError"])
def test_public_api(name: str) -> None:
    import tieslod
    assert name in tieslod.__all__
    assert callable(getattr(tieslod, name))


MUTATORS = ("append", "update", "clear", "pop", "add", "setdefault", "extend", "insert", "remove", "discard")


def mutable_globals(path: Path) -> list[tuple[str, int, str]]:
    """(name, line, the comment above it) of every module-level dict/list/set some code mutates."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for node in ast.parse(text).body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, (ast.Dict, ast.List, ast.Set)) and not (
                isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("dict", "list", "set")):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            name = getattr(target, "id", "")
            if any(f"{name}.{m}(" in text for m in MUTATORS) or f"global {name}" in text:
                above = lines[node.lineno - 2] if node.lineno > 1 else ""
                found.append((name, node.lineno, above.strip()))
    return found


def test_mutable_globals_are_caches_that_say_why() -> None:
    """Module state only where a process needs it (a cache, a worker's state), each saying why."""
    unexplained = [f"{path.relative_to(SRC)}:{line} {name}" for path in module_files().values()
                   for name, line, above in mutable_globals(path) if not above.startswith("#")]
    assert unexplained == []
