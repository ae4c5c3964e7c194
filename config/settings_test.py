"""Settings for the test suite: the normal settings with test-only secrets and fast knobs.

Worker processes that tests start use this module too (``DJANGO_SETTINGS_MODULE``).
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("PIPELINE_RETRY_BASE_SECONDS", "1")
os.environ.setdefault("PIPELINE_HEARTBEAT_SECONDS", "1")
os.environ.setdefault("PIPELINE_EXTRA_HANDLER_MODULES", "tests.handlers")

from .settings import *  # noqa: F403
from .settings import Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests serve the static files from the app folders without a collectstatic; the hashed
# storage of production is tested on its own (tests/test_static_hashing.py).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
Q_CLUSTER["poll"] = 0.1
