"""Static files served under content-hashed names (docs/OPERATIONS.md, "Static files").

``collectstatic`` writes each file under a name with its content's hash and a manifest;
``{% static %}`` names the hashed file, and the imports between the workspace's ES modules
(``import … from "./store.js"``) are rewritten to the hashed names too. A deploy therefore
never serves a page whose modules mix old and new files, and the files can be cached for good.
"""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class HashedStaticStorage(ManifestStaticFilesStorage):
    # Rewrite ``import``/``export … from`` of JavaScript modules (Django ≥ 4.2).
    support_js_module_import_aggregation = True
