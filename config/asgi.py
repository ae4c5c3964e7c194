import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from config.body_limit import BodyLimitMiddleware  # noqa: E402  (needs settings loaded)
from config.request_context import FreshContextMiddleware  # noqa: E402
from config.upload_gate import UploadGateMiddleware, UploadStreamingASGIHandler  # noqa: E402
from jobs.api.stream_slots import EventStreamGate  # noqa: E402

# Django's ASGI handler, except that an upload the gate admitted streams into its project
# folder instead of being read whole into TMPDIR first (config/upload_gate.py).
django_application = UploadStreamingASGIHandler()

# Outermost first: open event streams capped per process and user (429), run without a thread
# each; an authenticated upload refused from its headers alone (tenant, project, role,
# throttle, declared length) or admitted with the upload cap; then every request body capped
# before Django reads it (and before authentication): 413 past the cap.
application = FreshContextMiddleware(
    EventStreamGate(UploadGateMiddleware(BodyLimitMiddleware(django_application)))
)

# Everything loaded so far (Django, the apps, their modules) lives as long as the process: move
# it out of the garbage collector's sight, so a full collection scans only what requests made
# (about 120 ms of CPU every few dozen requests otherwise: docs/BENCHMARKS.md §11).
gc.freeze()
