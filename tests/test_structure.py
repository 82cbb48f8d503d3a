"""Layers only point down: no circle in rtcprobe's import graph.

The graph counts every import of an rtcprobe module, at module level and inside functions alike:
the three circles issue 14 found (capture -> report.html, commands.demo <-> commands.probe,
importers <-> inputs) were all imports inside functions, so a test of module-level imports only
would have passed with all three. `TYPE_CHECKING` blocks are left out (they never run).

Imports by name (importlib) are allowed in three places only, each for a reason said there:
`rtcprobe/__init__.py` (the package's names on first use), `rtcprobe/cli.py` (only the chosen
command's module) and `rtcprobe/capture/views.py` (a capture's frames and notebook HTML come from
the layers above it, looked up by name: the capture layer does not import them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rtcprobe"

#: modules that may import by name (importlib / __import__), and why
DYNAMIC = {
    "rtcprobe": "PEP 562 names: `import rtcprobe` imports no aiortc or pandas",
    "rtcprobe.cli": "the chosen command's module only (rtcprobe.commands.catalog)",
    "rtcprobe.capture.views": "frames and notebook HTML of a capture, from the layers above",
}

#: circles known and not yet undone, each with its owner's reason; the test fails when one is added
#: and when one of these is gone (then delete it here)
KNOWN_CIRCLES = {
    frozenset({"rtcprobe.analyze.detectors", "rtcprobe.analyze.detectors_media"}):
        "detectors_media takes Finding and the thresholds from detectors, which imports its rules "
        "inside detect(): the rule table wants its own module both import",
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _target(name: str) -> str | None:
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in MODULES else None


def _imports(module: str, path: Path) -> tuple[dict[str, int], list[int]]:
    """rtcprobe modules `module` imports (-> first line), and the lines that import by name."""
    found: dict[str, int] = {}
    dynamic: list[int] = []
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                continue
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package[:len(package) - child.level + 1] + ([base] if base else []))
                names = [f"{base}.{alias.name}" for alias in child.names]
            elif isinstance(child, ast.Attribute) and child.attr == "import_module" or \
                    isinstance(child, ast.Name) and child.id == "__import__":
                dynamic.append(child.lineno)
            for name in names:
                target = _target(name) if name.startswith("rtcprobe") else None
                if target is not None and target != module:
                    found.setdefault(target, child.lineno)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found, dynamic


GRAPH = {module: _imports(module, path)[0] for module, path in MODULES.items()}


def _circles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[frozenset[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(graph[step])))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                if len(members) > 1:
                    circles.append(frozenset(members))
    return circles


def _describe(circle: frozenset[str]) -> str:
    return "; ".join(f"{a} -> {b} (line {line})" for a in sorted(circle)
                     for b, line in GRAPH[a].items() if b in circle)


def test_no_circles_in_the_import_graph() -> None:
    circles = _circles(GRAPH)
    new = [c for c in circles if c not in KNOWN_CIRCLES]
    assert not new, "import circles (layers must only point down):\n" + "\n".join(map(_describe, new))
    gone = [sorted(c) for c in KNOWN_CIRCLES if c not in circles]
    assert not gone, f"no longer circles, delete them from KNOWN_CIRCLES: {gone}"


@pytest.mark.parametrize("low,high", [
    ("rtcprobe.capture", "rtcprobe.report"), ("rtcprobe.capture", "rtcprobe.frames"),
    ("rtcprobe.importers", "rtcprobe.inputs"), ("rtcprobe.commands.probe", "rtcprobe.commands.demo"),
])
def test_the_three_circles_of_issue_14_stay_undone(low: str, high: str) -> None:
    ups = [(a, b) for a in GRAPH if a == low or a.startswith(low + ".")
           for b in GRAPH[a] if b == high or b.startswith(high + ".")]
    assert not ups, f"{low} imports {high}: {ups}"


def test_imports_by_name_only_where_documented() -> None:
    found = {module for module, path in MODULES.items() if _imports(module, path)[1]}
    assert found == set(DYNAMIC), f"imports by name outside {sorted(DYNAMIC)}: {sorted(found - set(DYNAMIC))}"


def test_the_graph_sees_imports_inside_functions() -> None:
    """The reader itself: a function-level import (demo's `from .probe import run_capture`) is an edge."""
    assert "rtcprobe.commands.probe" in GRAPH["rtcprobe.commands.demo"]
    assert "rtcprobe.importers" in GRAPH["rtcprobe.inputs"]
    assert _circles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [frozenset("abc")]


def test_capture_views_still_reach_frames_and_html() -> None:
    from rtcprobe.capture.views import PROVIDERS, view

    assert {PROVIDERS[k] for k in PROVIDERS} <= set(MODULES)
    assert callable(view("frame", "stats_wide")) and callable(view("html", "capture_summary_html"))
    assert callable(view("frame", "concat")) and callable(view("html", "collection_html"))
