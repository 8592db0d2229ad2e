"""The layers of the tree hold: transport (``bot/``) -> composition root -> features -> engines -> kit.

Imports are read with ``ast`` (every ``import``, at module level or inside a function), so a lazy import
that closes a circle counts as much as a top-level one.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION = "dialogs.composition"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path) -> set[str]:
    """Absolute module names ``path`` imports (``from a import b`` counts as ``a.b`` where that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path, root).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def unit(module: str) -> str | None:
    """The layer unit a module belongs to: ``dialogs.kit``, ``dialogs.engines.delivery``, ``dialogs.qa``,
    ``dialogs.composition``; None outside ``dialogs``."""
    parts = module.split(".")
    if parts[0] != "dialogs" or len(parts) < 2:
        return None
    if parts[1] == "engines":
        return ".".join(parts[:3]) if len(parts) > 2 else None
    return ".".join(parts[:2])


def package_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(unit -> units it imports, module -> modules of ``dialogs`` it imports) for dialogs/ and bot/."""
    graph: dict[str, set[str]] = defaultdict(set)
    by_module: dict[str, set[str]] = {}
    for top in ("dialogs", "bot"):
        for path in sorted((root / top).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            mod = module_name(path, root)
            targets = {m for m in imports(path, root) if m.startswith("dialogs")}
            by_module[mod] = targets
            src = unit(mod)
            if src is None:
                continue
            graph[src]  # every unit is a node, even one importing nothing
            for target in targets:
                dst = unit(target)
                if dst is not None and dst != src:
                    graph[src].add(dst)
    return graph, by_module


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one unit (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_among_kit_engines_and_features() -> None:
    graph, _ = package_graph(ROOT)
    assert cycles(graph) == []


def test_the_composition_root_is_imported_by_bot_only() -> None:
    _, by_module = package_graph(ROOT)
    importers = sorted(
        mod
        for mod, targets in by_module.items()
        if not mod.startswith("bot")
        and any(t == COMPOSITION or t.startswith(COMPOSITION + ".") for t in targets)
    )
    assert importers == []


def test_the_kit_imports_no_feature_or_engine() -> None:
    graph, _ = package_graph(ROOT)
    assert sorted(graph["dialogs.kit"] - {"dialogs.kit"}) == []


def test_engines_import_no_feature() -> None:
    graph, _ = package_graph(ROOT)
    for engine in (u for u in graph if u.startswith("dialogs.engines.")):
        assert {u for u in graph[engine] if not u.startswith(("dialogs.kit", "dialogs.engines."))} == set(), (
            engine
        )


def test_the_check_sees_a_circle(tmp_path: Path) -> None:
    """The checks above can fail: a tree where a feature imports the root that imports it."""
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    for pkg in ("dialogs", "dialogs/kit", "dialogs/announce"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "dialogs" / "composition.py").write_text("from dialogs import announce\n")
    (tmp_path / "dialogs" / "announce" / "handlers.py").write_text(
        "def f():\n    from dialogs.composition import Feature\n"
    )
    graph, by_module = package_graph(tmp_path)
    assert cycles(graph) == [["dialogs.announce", "dialogs.composition"]]
    assert "dialogs.announce.handlers" in {m for m, t in by_module.items() if COMPOSITION in t}


# What features may use of the transport: its API and settings; CLI commands also open services and logging.
TRANSPORT_FOR_FEATURES = {"bot", "bot.api", "bot.settings", "bot.services", "bot.logging_setup"}


def test_features_see_the_transport_only_through_its_api() -> None:
    found = {}
    for path in sorted((ROOT / "dialogs").rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        used = {m for m in imports(path, ROOT) if m == "bot" or m.startswith("bot.")}
        # ``from bot.api import Turn`` also yields "bot.api.Turn": keep the module part
        modules = {m if m in TRANSPORT_FOR_FEATURES else ".".join(m.split(".")[:2]) for m in used}
        if modules - TRANSPORT_FOR_FEATURES:
            found[module_name(path, ROOT)] = sorted(modules - TRANSPORT_FOR_FEATURES)
    assert found == {}
