"""The package's shape, checked on every run: no import cycle, and a pure providers package.

The graph is read from the source with ``ast``: every ``import`` of a
``widget_server`` module, at module level or inside a function (a
function-local import hides a cycle, it does not remove it). An import of a
name from a package counts as an import of the submodule when there is one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import widget_server

PACKAGE_DIR = Path(widget_server.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The ``widget_server`` modules that ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                         for alias in node.names)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imported_modules(name, path) for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_the_graph_counts_imports_inside_functions(tmp_path):
    source = tmp_path / "late.py"
    source.write_text("def f():\n    from widget_server import models\n")
    assert imported_modules("widget_server.late", source) == {"widget_server.models"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def reached_from(name: str) -> set[str]:
    """Every module ``name`` imports, directly or through others."""
    seen, todo = set(), [name]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_widget_server_has_no_import_cycle():
    found = cycles(GRAPH)
    for group in found:
        print("modules importing each other in a cycle:", ", ".join(group))
    assert found == [], f"import cycles: {found}"


def test_providers_reach_neither_models_nor_extensions():
    service_side = {"widget_server.models", "widget_server.extensions"}
    impure = {name: sorted(reached_from(name) & service_side)
              for name in GRAPH if name.startswith("widget_server.providers")}
    assert {name: found for name, found in impure.items() if found} == {}


# What an adapter may import: the standard library, the HTTP and phone-number
# libraries, its own package and the call states. The rest (the outbound session,
# settings, credentials) is handed in by services/provider_accounts.py.
PROVIDERS_MAY_IMPORT = frozenset({"requests", "urllib3", "phonenumbers",
                                  "widget_server.call_states"})


def all_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in its source, absolute names only."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import"
            found.add(node.module)
    return found


def allowed_in_providers(module: str) -> bool:
    top = module.partition(".")[0]
    return (top in sys.stdlib_module_names or top in PROVIDERS_MAY_IMPORT
            or module in PROVIDERS_MAY_IMPORT or module == "widget_server.providers"
            or module.startswith("widget_server.providers."))


def test_the_providers_allow_list_refuses_the_application_and_other_libraries():
    assert allowed_in_providers("urllib.parse") and allowed_in_providers("requests.adapters")
    assert allowed_in_providers("widget_server.providers.base")
    for other in ("widget_server.i18n", "widget_server.security.outbound", "flask",
                  "widget_server", "sqlalchemy", "widget_server.providersx"):
        assert not allowed_in_providers(other)


def test_providers_import_only_the_allow_list():
    outside = {name: sorted(m for m in all_imports(path) if not allowed_in_providers(m))
               for name, path in MODULES.items() if name.startswith("widget_server.providers")}
    assert {name: found for name, found in outside.items() if found} == {}
