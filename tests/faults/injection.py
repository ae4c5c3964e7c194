"""Fault injection inside worker processes, switched on by environment variables.

Fault tests start their qclusters with
``PIPELINE_EXTRA_HANDLER_MODULES=tests.handlers,tests.faults.injection`` and
``FAULT_SLOW=<target>:<seconds>``; importing this module (as handler modules are imported at
start-up) wraps the target so each call sleeps *after* its work is done on disk and before
the database records it: the widest window for a kill or a dropped connection to land in.

Targets: ``trash`` (``file_removal`` moving a file into ``.trash/``), ``move``
(``image_move_files`` moving one file) and ``derivatives`` (one photo's thumbnail and preview
written).
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from collections.abc import Callable
from typing import Any

# target → (module whose global the caller looks up, function name)
TARGETS = {
    "trash": ("photos.services.removal", "trash_move"),
    "move": ("photos.services.move", "move_no_replace"),
    "derivatives": ("photos.imaging", "make_derivatives"),
    "orphans": ("photos.project_maintenance", "orphan_cleanup"),
}


def slow_after(fn: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        time.sleep(seconds)
        return result

    wrapper.__fault_injected__ = True  # type: ignore[attr-defined]
    return wrapper


def install(spec: str) -> None:
    """``"trash:0.2"`` → every ``trash_move`` sleeps 0.2 s after moving its file."""
    target, _, seconds = spec.partition(":")
    module_name, attr = TARGETS[target]
    module = importlib.import_module(module_name)
    fn = getattr(module, attr)
    if not getattr(fn, "__fault_injected__", False):
        setattr(module, attr, slow_after(fn, float(seconds or 0.2)))


if os.environ.get("FAULT_SLOW"):
    install(os.environ["FAULT_SLOW"])
