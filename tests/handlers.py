"""Job handlers used only by tests (registered through PIPELINE_EXTRA_HANDLER_MODULES)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from jobs.context import JobContext
from jobs.definitions import Step, TaskDefinition
from jobs.events import event_record
from jobs.exceptions import ItemFailed
from jobs.models import Scope
from jobs.registry import handler, item_source, step_selector, task_definitions_register


@handler("test_noop")
def noop(ctx: JobContext) -> None:
    """Does nothing; benchmarks and ordering tests use it."""
    marker = ctx.payload.get("marker_dir")
    if marker:
        Path(marker, f"{ctx.job.pk}-{ctx.job.type}-{time.time_ns()}").touch()


@handler("test_io_wait")
def io_wait(ctx: JobContext) -> None:
    """Waits ``ms`` milliseconds (default 20) without using the CPU, as a job waiting on a disk
    or network does, then writes one marker file per run into ``marker_dir``, named
    ``<job id>.<worker host>.<ns>``: the scale-out benchmark and test count runs per job."""
    time.sleep(float(ctx.payload.get("ms", 20)) / 1000)
    marker = ctx.payload.get("marker_dir")
    if marker:
        host = ctx.worker_id.split(":", 1)[0]
        Path(marker, f"{ctx.job.pk}.{host}.{time.time_ns()}").touch()


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


@handler("test_block")
def block(ctx: JobContext) -> None:
    """A long job: runs until the file named by ``release`` (or by ``TEST_BLOCK_RELEASE`` in the
    worker's environment) exists, checking for cancel and heartbeating, so a test decides when
    every lane worker is free again."""
    release = Path(ctx.payload.get("release") or os.environ["TEST_BLOCK_RELEASE"])
    while not release.exists():
        ctx.check_cancel()
        time.sleep(0.2)


@handler("test_always_fails")
def always_fails(ctx: JobContext) -> None:
    raise RuntimeError("boom: the disk is on fire")


@handler("test_read_missing")
def read_missing(ctx: JobContext) -> None:
    """Per item, read the item's file in the project folder; a missing one fails the item
    with the real ``OSError`` text. Then open a missing file: the job fails with its path."""
    from photos.storage import project_dir

    folder = project_dir(ctx.job.project)

    def one(item) -> str:  # type: ignore[no-untyped-def]
        try:
            (folder / f"{item.basename}.jpg").read_bytes()
        except OSError as exc:
            raise ItemFailed(str(exc)) from exc
        return "read"

    ctx.each_item(one)
    (folder / ".trash" / "gone" / "IMG_0000.CR2").open("rb")


# Test-only task definitions, visible to worker processes through the same module.
task_definitions_register(
    TaskDefinition(
        "test_three_steps",
        Scope.GLOBAL,
        (Step("test_noop", 95), Step("test_noop", 50), Step("test_noop", 95)),
    )
)
task_definitions_register(
    TaskDefinition(
        "test_chunked",
        Scope.ITEM_SET,
        (Step("test_record_items", 50), Step("test_noop", 50)),
        title="Recording {photos}",
    )
)
task_definitions_register(
    TaskDefinition("test_slow", Scope.GLOBAL, (Step("test_sleep", 50), Step("test_noop", 50)))
)
# A long job in each lane (priority 95 and 50): every lane worker busy until released.
task_definitions_register(
    TaskDefinition("test_block_priority", Scope.GLOBAL, (Step("test_block", 95),))
)
task_definitions_register(
    TaskDefinition("test_block_default", Scope.GLOBAL, (Step("test_block", 50),))
)
task_definitions_register(
    TaskDefinition("test_scheduled", Scope.GLOBAL, (Step("test_noop", 50),), single_flight=True)
)
task_definitions_register(
    TaskDefinition("test_fails", Scope.GLOBAL, (Step("test_always_fails", 50),))
)
# Carries step 0's photos to a step that keeps only those its step selector picks.
task_definitions_register(
    TaskDefinition(
        "test_carry_needed",
        Scope.ITEM_SET,
        (
            Step("test_noop", 50),
            Step("generate_derivatives", 90, carry_items=True, only_if_needed=True),
        ),
    )
)


@handler("test_item_os_errors")
def item_os_errors(ctx: JobContext) -> None:
    """Per item, write an event, then raise the ``OSError`` its basename names (``errno:ENAME``).

    The event is written in the item's transaction, so a failed item leaves none behind.
    """
    import errno
    import os

    from django.conf import settings

    def one(item) -> str:  # type: ignore[no-untyped-def]
        event_record(
            tenant_id=ctx.job.tenant_id,
            type="test_side_effect",
            job_id=ctx.job.pk,
            payload={"item_id": item.pk, "basename": item.basename},
        )
        if item.basename.startswith("errno:"):
            code = getattr(errno, item.basename.split(":", 1)[1])
            path = Path(settings.PHOTOS_ROOT, "acme", "Shoot", ".preview", "X.webp")
            raise OSError(code, os.strerror(code), os.fspath(path))
        return "fine"

    ctx.each_item(one, atomic=True)


# Carries step 0's items to a step whose selector keeps those labelled ``PICK…``: the engine's
# carry rule, whatever the items are.
task_definitions_register(
    TaskDefinition(
        "test_carry_picked",
        Scope.ITEM_SET,
        (Step("test_noop", 50), Step("test_picked", 90, carry_items=True, only_if_needed=True)),
    )
)


@step_selector("test_picked")
def picked(tenant_id: int, ids: list[int]) -> list[int]:
    return [
        ref.id
        for ref in item_source().resolve(tenant_id, ids)
        if ref.id is not None and (ref.label or "").startswith("PICK")
    ]


@handler("test_picked")
def picked_noop(ctx: JobContext) -> None:
    """The carried step of ``test_carry_picked``; its items are what the test checks."""
