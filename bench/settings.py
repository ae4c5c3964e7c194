"""Settings for benchmark processes (drivers and the qclusters they start).

The production settings, plus the test-only handlers (``test_noop``) and every django-q2
result kept (the overhead benchmark reads raw tasks' results back).
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-for-production")
os.environ.setdefault("PIPELINE_EXTRA_HANDLER_MODULES", "tests.handlers")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from config.settings import *  # noqa: F403
from config.settings import Q_CLUSTER, REST_FRAMEWORK

# 0: never prune successful django-q2 results (the default 200 would drop the ones we read).
Q_CLUSTER["save_limit"] = 0
# Benchmarks call the API in loops: no throttles.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
