"""The job engine's import graph: one direction, no cycle, no app above it (docs/ARCHITECTURE.md).

The engine is every module directly in ``jobs/`` except the adapters (``handlers/``, ``api/``,
``admin*``, ``management/``) and ``tests/``/``migrations/``. Each engine module may import only
the engine modules listed before it in ``ENGINE_LAYERS``, at module top. Imports under
``if TYPE_CHECKING:`` are for annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_app_graph import APP_ORDER, PROJECT_PACKAGE

JOBS_DIR = Path(__file__).resolve().parent.parent

# Bottom first: a module imports only modules above it in this list.
ENGINE_LAYERS = (
    "process_tree",
    "error_text",
    "exceptions",
    "models",
    "definitions",
    "wakeups",
    "events",
    "registry",
    "lanes",
    "enqueue",
    "tasks",
    "lifecycle",
    "context",
    "sweeper",
    "runtime",
    "scheduling",
    "signals",
    "dashboard",
    "apps",
)

# Imports inside a function that stay: django-q2's modules need the app registry loaded, and an
# AppConfig imports its app's modules in ``ready()``.
FUNCTION_IMPORT_ALLOWLIST = {
    ("lanes", "django_q.tasks"),
    ("sweeper", "django_q.models"),
    ("scheduling", "django_q.models"),
    ("apps", "jobs.registry"),
    ("apps", "jobs.signals"),
    ("apps", "jobs.process_tree"),
}

ADAPTER_PREFIXES = ("admin",)


def engine_modules() -> list[str]:
    return sorted(
        path.stem
        for path in JOBS_DIR.glob("*.py")
        if path.stem != "__init__" and not path.stem.startswith(ADAPTER_PREFIXES)
    )


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """Absolute dotted names an import statement loads (``from . import x`` → ``jobs.x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        base = "jobs" + (f".{node.module}" if node.module else "")
    if base == "jobs":
        # ``from jobs import lanes`` loads the module ``jobs.lanes``.
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def module_imports(name: str) -> tuple[list[str], list[str]]:
    """``(top_level, in_functions)`` dotted names imported by ``jobs/<name>.py``."""
    return source_imports((JOBS_DIR / f"{name}.py").read_text())


def source_imports(source: str) -> tuple[list[str], list[str]]:
    """``(top_level, in_functions)`` dotted names imported by a module of ``jobs/``."""
    tree = ast.parse(source)
    top: list[str] = []
    inner: list[str] = []

    def visit(node: ast.AST, *, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child, in_function=in_function)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            (inner if in_function else top).extend(_imported_names(node))
            return
        nested = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function=nested)

    visit(tree, in_function=False)
    return top, inner


def engine_dependencies(name: str) -> set[str]:
    """Engine modules ``jobs/<name>.py`` imports, wherever the import stands."""
    top, inner = module_imports(name)
    deps = set()
    for dotted in top + inner:
        parts = dotted.split(".")
        if parts[0] == "jobs" and len(parts) > 1:
            deps.add(parts[1])
    return deps - {name}


def test_every_engine_module_has_a_layer():
    assert set(engine_modules()) <= set(ENGINE_LAYERS), (
        "Place each new module of jobs/ in ENGINE_LAYERS (and in docs/ARCHITECTURE.md): "
        f"{sorted(set(engine_modules()) - set(ENGINE_LAYERS))}"
    )


def test_engine_modules_import_only_layers_below():
    wrong = {}
    for name in engine_modules():
        if name not in ENGINE_LAYERS:
            continue  # test_every_engine_module_has_a_layer names it
        allowed = set(ENGINE_LAYERS[: ENGINE_LAYERS.index(name)])
        upward = engine_dependencies(name) - allowed
        if upward:
            wrong[name] = sorted(upward)
    assert wrong == {}


def test_engine_import_graph_has_no_cycle():
    graph = {name: engine_dependencies(name) for name in engine_modules()}
    visiting: list[str] = []
    done: set[str] = set()
    cycles: list[list[str]] = []

    def walk(node: str) -> None:
        if node in visiting:
            cycles.append([*visiting[visiting.index(node) :], node])
            return
        if node in done:
            return
        visiting.append(node)
        for dep in sorted(graph.get(node, ())):
            walk(dep)
        visiting.pop()
        done.add(node)

    for name in sorted(graph):
        walk(name)
    assert cycles == []


def test_engine_imports_no_app_above_it():
    """What the engine runs, the apps above it register (``jobs.registry``)."""
    above = {*APP_ORDER[APP_ORDER.index("jobs") + 1 :], PROJECT_PACKAGE}
    offenders = {}
    for name in engine_modules():
        top, inner = module_imports(name)
        found = sorted({d for d in top + inner if d.split(".")[0] in above})
        if found:
            offenders[name] = found
    assert offenders == {}


def test_engine_imports_stand_at_module_top():
    hidden = {}
    for name in engine_modules():
        _, inner = module_imports(name)
        extra = sorted(d for d in inner if (name, d) not in FUNCTION_IMPORT_ALLOWLIST)
        if extra:
            hidden[name] = extra
    assert hidden == {}


def test_the_checks_see_imports():
    """The parser finds relative, absolute, nested and TYPE_CHECKING imports as meant."""
    top, inner = source_imports(
        "from typing import TYPE_CHECKING\n"
        "from .models import Job\n"
        "from . import lanes\n"
        "import sharing.models\n"
        "if TYPE_CHECKING:\n"
        "    from .context import JobContext\n"
        "def f():\n"
        "    from .runtime import drain\n"
    )
    assert top == ["typing", "jobs.models", "jobs.lanes", "sharing.models"]
    assert inner == ["jobs.runtime"]
