"""Job handlers, one module per family of job types; importing this package registers them.

The handlers are the adapters between the engine and the photos: the engine imports none of
them, ``settings.PIPELINE_HANDLER_MODULES`` names this package and ``jobs.registry.autodiscover``
imports it. Importing this package also registers the step selectors
(``jobs.registry.step_selector``) and how an item's file error reads: paths relative to the
project folder under ``PHOTOS_ROOT``. A job type without a handler fails at once without retry
(``jobs.runtime.run_job``).
"""

from importlib import import_module

from django.conf import settings

from jobs.exceptions import os_error_text
from jobs.registry import item_error_text_register


@item_error_text_register
def _item_error_text(exc: OSError) -> str:
    return os_error_text(exc, root=settings.PHOTOS_ROOT)


HANDLER_MODULES: tuple[str, ...] = (
    "maintenance",
    "files",
    "projects",
    "derivatives",
    "capture",
)

for _module in HANDLER_MODULES:
    import_module(f"{__name__}.{_module}")
