"""The backend's packages depend on each other one way: the import graph between them has no cycle, and only the
app (backend/main.py) imports the staff web UI (backend/web/), so domain packages never depend on their pages.

A package is a folder or a top-level module of backend/ (`cases`, `staff`, `config`, ...). Every import counts,
type-only ones included: a type a package needs is a package it depends on.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "backend"
UI = "web"
UI_IMPORTED_ONLY_BY = {"main"}


def packages() -> set[str]:
    """Return the names of backend's packages: its folders of Python code and its top-level modules."""
    names = {path.stem for path in BACKEND.glob("*.py") if path.stem != "__init__"}
    names |= {path.name for path in BACKEND.iterdir() if path.is_dir() and any(path.rglob("*.py"))}
    return names


def package_of(path: Path) -> str:
    """Return the package a file of backend/ belongs to."""
    parts = path.relative_to(BACKEND).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_modules(path: Path) -> Iterator[str]:
    """Yield the absolute dotted names `path` imports (``from backend import x`` yields ``backend.x``)."""
    module_parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if module_parts[-1] == "__init__":
        module_parts.pop()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_parts[: len(module_parts) - node.level + (1 if path.name == "__init__.py" else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Return, for each backend package, the other backend packages it imports."""
    known = packages()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for path in sorted(BACKEND.rglob("*.py")):
        if path.parent == BACKEND and path.name == "__init__.py":
            continue
        source = package_of(path)
        for module in imported_modules(path):
            parts = module.split(".")
            if len(parts) >= 2 and parts[0] == "backend" and parts[1] in known and parts[1] != source:
                graph[source].add(parts[1])
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of `graph` as a path that ends where it starts, or None when the graph is acyclic."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph[node]):
            if target in on_path:
                return path[path.index(target) :] + [target]
            if target not in done and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)) is not None:
            return cycle
    return None


def describe(graph: dict[str, set[str]]) -> str:
    return "\n".join(f"  {name} -> {', '.join(sorted(targets)) or '-'}" for name, targets in sorted(graph.items()))


def test_the_finder_sees_a_cycle_and_its_absence() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_backend_packages_import_each_other_without_cycles() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle between backend packages: {' -> '.join(cycle)}\n{describe(graph)}"


def test_only_the_app_imports_the_staff_web_ui() -> None:
    graph = import_graph()
    importers = {name for name, targets in graph.items() if UI in targets}
    assert importers <= UI_IMPORTED_ONLY_BY, f"these packages import backend.{UI}: {sorted(importers)}"
