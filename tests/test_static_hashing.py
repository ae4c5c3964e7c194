"""Static files are collected under content-hashed names, ES module imports rewritten
(config/static_storage.py), so a deploy never serves old and new workspace modules together."""

from __future__ import annotations

import json
import re

from django.core.management import call_command
from django.template import engines
from django.test import override_settings

HASHED = {"BACKEND": "config.static_storage.HashedStaticStorage"}
IMPORT = re.compile(r'from\s+"([^"]+)"')


def test_collectstatic_rewrites_module_imports_to_hashed_names(tmp_path):
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES={**storages, "staticfiles": HASHED}):
        call_command("collectstatic", interactive=False, verbosity=0)
        manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
        main = (tmp_path / manifest["photos/cull/main.js"]).read_text()
        dashboard = (tmp_path / manifest["admin-site/dashboard.js"]).read_text()
        page = engines["django"].from_string("{% load static %}{% static 'photos/cull/main.js' %}")
        url = page.render({})
    imports = IMPORT.findall(main)
    assert "./store.js" not in imports
    hashed_store = manifest["photos/cull/store.js"]
    assert f"./{hashed_store.rsplit('/', 1)[1]}" in imports
    # Every module main.js imports exists under its hashed name.
    for name in imports:
        assert (tmp_path / "photos/cull" / name).is_file(), name
    # So does every module any collected workspace module imports (an ``export const`` before
    # an ``import … from`` once had the import rewritten twice: ``grid.<hash>.<hash>.js``).
    for source, hashed in manifest.items():
        if not (source.startswith("photos/cull/") and source.endswith(".js")):
            continue
        for name in IMPORT.findall((tmp_path / hashed).read_text()):
            assert (tmp_path / "photos/cull" / name).is_file(), f"{hashed} imports {name}"
    # The dashboard reaches the workspace's live.js across folders, hashed too.
    live = manifest["photos/cull/live.js"]
    assert f'from "../{live}"' in dashboard
    assert url.endswith(manifest["photos/cull/main.js"])
    assert manifest["photos/cull/main.js"] != "photos/cull/main.js"
