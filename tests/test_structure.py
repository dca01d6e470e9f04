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

import pytest

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


# The packages that answer people and programs, and the command line: each reaches the
# data through the services, never through another of them.
WEB_PACKAGES = ("widget_server.admin", "widget_server.api", "widget_server.embed",
                "widget_server.hooks", "widget_server.cli")


def web_package(name: str) -> str | None:
    return next((package for package in WEB_PACKAGES
                 if name == package or name.startswith(package + ".")), None)


def test_no_web_package_imports_another():
    crossings = {name: sorted(target for target in GRAPH[name]
                              if web_package(target) not in (None, web_package(name)))
                 for name in GRAPH if web_package(name)}
    assert {name: found for name, found in crossings.items() if found} == {}


def private_names_imported(name: str, path: Path) -> set[str]:
    """``module._name`` that ``name`` takes from another module of ``widget_server``:
    imported by name, or read off an imported module."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found, modules = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    modules[alias.asname or alias.name] = f"{base}.{alias.name}"
                elif base in MODULES and base != name and _private(alias.name):
                    found.add(f"{base}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in MODULES:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and _private(node.attr)):
            found.add(f"{modules[node.value.id]}.{node.attr}")
    return found


def _private(identifier: str) -> bool:
    return identifier.startswith("_") and not identifier.startswith("__")


def test_the_private_name_check_sees_both_spellings(tmp_path):
    source = tmp_path / "nosy.py"
    source.write_text("from widget_server.services.widgets import _checked\n"
                      "from widget_server.services import users\n"
                      "users._checked_role('owner')\n"
                      "from widget_server.services.widgets import embed_snippet\n")
    assert private_names_imported("widget_server.nosy", source) == {
        "widget_server.services.widgets._checked", "widget_server.services.users._checked_role"}


def test_no_private_name_is_imported_across_modules():
    found = {name: sorted(private_names_imported(name, path)) for name, path in MODULES.items()}
    assert {name: names for name, names in found.items() if names} == {}


def _module_level_calls(path: Path, function: str) -> list[ast.Call]:
    return [node.value for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == function]


@pytest.mark.parametrize("package", ["widget_server.admin", "widget_server.api",
                                     "widget_server.embed", "widget_server.hooks"])
def test_every_web_package_makes_its_blueprint_one_way(package):
    """The blueprint is made, once, at module level in a module of the package that its
    view modules import it from; the package's ``__init__`` imports the view modules at
    its top and exports only ``blueprint``, so nothing imports the package half-built."""
    members = {name: path for name, path in MODULES.items() if name.startswith(package + ".")}
    makers = [name for name, path in members.items() if _module_level_calls(path, "Blueprint")]
    assert len(makers) == 1, makers
    maker = makers[0]
    init = ast.parse(MODULES[package].read_text())
    statements = [node for node in init.body
                  if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    imports = [node for node in statements if isinstance(node, ast.Import | ast.ImportFrom)]
    assert statements[:len(imports)] == imports, "imports after other statements in __init__"
    assert [ast.unparse(node) for node in statements[len(imports):]] == [
        "__all__ = ['blueprint']"]
    assert any(isinstance(node, ast.ImportFrom) and node.module == maker
               and [alias.name for alias in node.names] == ["blueprint"] for node in imports)
    for name, path in members.items():
        source = ast.parse(path.read_text())
        takes = [node.module for node in ast.walk(source) if isinstance(node, ast.ImportFrom)
                 and "blueprint" in [alias.name for alias in node.names]]
        assert takes in ([], [maker]), f"{name} takes the blueprint from {takes}"


def test_the_command_line_imports_at_its_top_only():
    tree = ast.parse(MODULES["widget_server.cli"].read_text())
    late = [f"line {node.lineno}: {ast.unparse(node)}"
            for function in ast.walk(tree) if isinstance(function, ast.FunctionDef)
            for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)]
    assert late == []


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
