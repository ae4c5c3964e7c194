"""Job handlers used only by tests (registered through PIPELINE_EXTRA_HANDLER_MODULES)."""

from __future__ import annotations

import time
from pathlib import Path

from jobs.context import JobContext
from jobs.definitions import Step, TaskDefinition, task_definition_register
from jobs.events import event_record
from jobs.models import Scope
from jobs.registry import handler


@handler("test_noop")
def noop(ctx: JobContext) -> None:
    """Does nothing; benchmarks and ordering tests use it."""
    marker = ctx.payload.get("marker_dir")
    if marker:
        Path(marker, f"{ctx.job.pk}-{ctx.job.type}-{time.time_ns()}").touch()


@handler("test_record_items")
def record_items(ctx: JobContext) -> None:
    """Per item, write one ``test_side_effect`` event in the item's own transaction.

    ``sleep`` seconds between items leaves time to kill the worker mid-job.
    """
    delay = float(ctx.payload.get("sleep", 0))

    def one(item) -> str:  # type: ignore[no-untyped-def]
        event_record(
            tenant_id=ctx.job.tenant_id,
            type="test_side_effect",
            job_id=ctx.job.pk,
            payload={"item_id": item.pk, "basename": item.basename},
        )
        if delay:
            time.sleep(delay)
        return "recorded"

    ctx.each_item(one, atomic=True)


@handler("test_sleep")
def sleep(ctx: JobContext) -> None:
    """Sleeps in small steps, checking for cancel, for ``seconds`` (default 5)."""
    seconds = float(ctx.payload.get("seconds", 5))
    steps = max(int(seconds / 0.1), 1)
    ctx.set_total(steps)
    for step in range(steps):
        ctx.check_cancel()
        time.sleep(0.1)
        ctx.progress(step + 1)
    marker = ctx.payload.get("marker_dir")
    if marker:
        Path(marker, f"{ctx.job.pk}-done-{time.time_ns()}").touch()


@handler("test_always_fails")
def always_fails(ctx: JobContext) -> None:
    raise RuntimeError("boom: the disk is on fire")


# Test-only task definitions, visible to worker processes through the same module.
task_definition_register(
    TaskDefinition(
        "test_three_steps",
        Scope.GLOBAL,
        (Step("test_noop", 95), Step("test_noop", 50), Step("test_noop", 95)),
    )
)
task_definition_register(
    TaskDefinition(
        "test_chunked",
        Scope.PHOTO_SET,
        (Step("test_record_items", 50), Step("test_noop", 50)),
    )
)
task_definition_register(
    TaskDefinition("test_slow", Scope.GLOBAL, (Step("test_sleep", 50), Step("test_noop", 50)))
)
task_definition_register(
    TaskDefinition("test_scheduled", Scope.GLOBAL, (Step("test_noop", 50),), single_flight=True)
)
task_definition_register(
    TaskDefinition("test_fails", Scope.GLOBAL, (Step("test_always_fails", 50),))
)
