"""No module of the service imports, however indirectly, a module that imports it back: not at
the top, and not hidden in a function body either (where Python lets a cycle pass unnoticed
until the function runs)."""

import ast
from pathlib import Path

import service

ROOT = Path(service.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """The service's modules a module imports, at any depth of its code."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from service.bulk import jobs` imports the module service.bulk.jobs;
            # `from service.bulk.jobs import run`, the module service.bulk.jobs.
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name if name in modules else node.module for name in submodules]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def import_graph() -> dict[str, set[str]]:
    trees = {_module_name(path): ast.parse(path.read_text()) for path in ROOT.rglob("*.py")}
    return {name: _imports(tree, set(trees)) - {name} for name, tree in trees.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path round each cycle found by a depth-first search."""
    found, done, path = [], set(), []

    def visit(module: str) -> None:
        if module in path:
            found.append([*path[path.index(module):], module])
            return
        if module in done:
            return
        path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    return found


def test_the_service_has_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_check_sees_an_import_hidden_in_a_function() -> None:
    tree = ast.parse("def run():\n    from service.b import answer\n")
    graph = {"service.a": _imports(tree, {"service.b"}), "service.b": {"service.a"}}
    assert cycles(graph) == [["service.a", "service.b", "service.a"]]


def test_errors_import_nothing_of_the_service() -> None:
    # The lowest layer: kit and every domain raise its errors, so it may depend on none of them.
    assert import_graph()["service.errors"] == set()
