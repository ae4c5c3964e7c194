"""Job handlers, one module per family of job types; importing this package registers them.

A job type without a handler fails at once without retry (``jobs.runtime.run_job``).
"""

from importlib import import_module

HANDLER_MODULES: tuple[str, ...] = ("maintenance", "files", "projects", "derivatives")

for _module in HANDLER_MODULES:
    import_module(f"{__name__}.{_module}")
