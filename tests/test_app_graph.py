"""The apps' import graph points one way: core ← projects ← jobs ← photos ← sharing (STYLE.md
habit 14).

``core`` holds what every app shares and imports no app (nor ``config``, the project that
imports the apps); ``projects`` imports only ``core``; the engine (``jobs``) imports ``core``
and ``projects``; ``photos`` may import all three. Every module of the four apps is parsed,
except ``tests/`` and ``migrations/``, and every import counts wherever it stands: in a
function, under ``if TYPE_CHECKING:`` or at module top (an import hidden in a function is still
a dependency).

``KNOWN_VIOLATIONS`` lists today's exceptions. It may only shrink: a new upward import fails,
and so does an entry that no longer imports what it names (remove it).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom first: an app may import the apps before it.
APP_ORDER = ("core", "projects", "jobs", "photos", "sharing")
PROJECT_PACKAGE = "config"

# (module, app it may not import but does today). Shrink this list; never grow it.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def app_modules() -> list[Path]:
    return sorted(
        path
        for app in APP_ORDER
        for path in (ROOT / app).rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(ROOT / app).parts)
    )


def imported_packages(path: Path) -> set[str]:
    """Top-level packages ``path`` imports, wherever the import stands (relative ones are of
    the module's own app)."""
    packages = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            packages.add(node.module.split(".")[0])
    return packages


def allowed_imports(app: str) -> set[str]:
    """The project's packages ``app`` may import: itself and the apps below it."""
    return set(APP_ORDER[: APP_ORDER.index(app) + 1])


def violations() -> set[tuple[str, str]]:
    project = {*APP_ORDER, PROJECT_PACKAGE}
    found = set()
    for path in app_modules():
        module = _module_name(path)
        app = module.split(".")[0]
        for package in imported_packages(path) & project:
            if package not in allowed_imports(app):
                found.add((module, package))
    return found


def test_the_graph_checker_sees_every_app_and_imports_hidden_in_functions(tmp_path):
    names = {_module_name(path) for path in app_modules()}
    assert {"core.errors", "projects.services", "jobs.lanes", "photos.fsrules"} <= names
    module = tmp_path / "probe.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import jobs.models\n"
        "def f():\n    from photos.models import Photo\n"
        "from . import sibling\n"
    )
    assert imported_packages(module) == {"typing", "jobs", "photos"}


def test_core_imports_no_app_and_not_the_project():
    wrong = sorted((m, p) for m, p in violations() if m.split(".")[0] == "core")
    assert wrong == []


def test_apps_import_only_the_apps_below_them_or_a_known_violation():
    new = sorted(violations() - KNOWN_VIOLATIONS)
    assert new == [], (
        "An app imports one above it (core ← projects ← jobs ← photos; no app imports config). "
        "Move the shared piece down (core/), or let the lower app register a hook: "
        f"{new}"
    )


def test_known_violations_only_shrink():
    fixed = sorted(KNOWN_VIOLATIONS - violations())
    assert fixed == [], f"These imports are gone: remove them from KNOWN_VIOLATIONS: {fixed}"


# The engine says nothing of photos (issue 21): no word "photo" in ``jobs/`` outside its
# migrations, but for the schema those migrations fixed before the registry existed, each line
# allowed here once (what the engine reaches through ``ITEM_FIELD``/``ITEM_ID`` and
# ``Scope.ITEM_SET``; docs/ARCHITECTURE.md, "The item field"). "photolib" is the site's name
# (the cluster, the NOTIFY channel), not a photo.
ENGINE_DIR = ROOT / "jobs"
PHOTO_WORD = re.compile(r"photo(?!lib)", re.IGNORECASE)
ENGINE_PHOTO_LINES_ALLOWED = {
    ("jobs/models.py", 'ITEM_SET = "photo_set", "Photo set"'): 1,
    ("jobs/models.py", 'ITEM_FIELD = "photo"'): 1,
    ("jobs/models.py", "photo = models.ForeignKey("): 2,
    ("jobs/models.py", 'models.Index(fields=[ITEM_FIELD, "id"], name="event_photo"),'): 1,
}


def photo_lines(root: Path) -> Counter[tuple[str, str]]:
    """``(path, stripped line)`` of every line naming a photo under ``root`` (migrations and
    byte code excepted), counted."""
    found: Counter[tuple[str, str]] = Counter()
    for path in sorted(root.rglob("*")):
        parts = set(path.relative_to(root).parts)
        if not path.is_file() or parts & {"migrations", "__pycache__"}:
            continue
        text = path.read_text(errors="replace")
        for line in text.splitlines():
            if PHOTO_WORD.search(line):
                found[(path.relative_to(root.parent).as_posix(), line.strip())] += 1
    return found


def test_the_photo_grep_sees_words_in_any_case_but_not_the_site_name(tmp_path):
    app = tmp_path / "jobs"
    (app / "migrations").mkdir(parents=True)
    (app / "a.py").write_text("x = 1  # Photos\nCHANNEL = 'photolib_events'\nPHOTOS_ROOT\n")
    (app / "migrations" / "0001.py").write_text("photo = 1\n")
    assert photo_lines(app) == Counter(
        {("jobs/a.py", "x = 1  # Photos"): 1, ("jobs/a.py", "PHOTOS_ROOT"): 1}
    )


def test_the_engine_names_no_photo_outside_its_fixed_schema():
    found = photo_lines(ENGINE_DIR)
    extra = sorted((found - Counter(ENGINE_PHOTO_LINES_ALLOWED)).elements())
    assert extra == [], (
        "jobs/ names photos: let the app register it (jobs.registry) or reach the item field "
        f"through ITEM_FIELD/ITEM_ID: {extra}"
    )
    stale = sorted((Counter(ENGINE_PHOTO_LINES_ALLOWED) - found).elements())
    assert stale == [], f"These allowed lines are gone: remove them: {stale}"
