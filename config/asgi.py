import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from config.body_limit import BodyLimitMiddleware  # noqa: E402  (needs settings loaded)
from jobs.api.stream_slots import EventStreamGate  # noqa: E402

# Cap request bodies before Django reads them (and before authentication): 413 past the cap.
# Cap open event streams per process and user (429), and run them without a thread each.
application = EventStreamGate(BodyLimitMiddleware(django_application))

# Everything loaded so far (Django, the apps, their modules) lives as long as the process: move
# it out of the garbage collector's sight, so a full collection scans only what requests made
# (about 120 ms of CPU every few dozen requests otherwise: docs/BENCHMARKS.md §11).
gc.freeze()
