"""Scheduled maintenance and discovery start through their services (one write path)."""

from jobs.models import TaskRun
from jobs.scheduling import scheduled_task_start
from photos import schedules


def test_a_maintenance_tick_starts_through_maintenance_start_once_per_tenant(
    tenant, other_tenant, monkeypatch
):
    calls = []
    real = schedules.maintenance_start

    def recording(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(schedules, "maintenance_start", recording)
    first = scheduled_task_start("maintenance_global")
    assert set(first) == {"acme", "globex"}
    assert sorted((c["tenant"].slug, c["source"]) for c in calls) == [
        ("acme", "scheduler"),
        ("globex", "scheduler"),
    ]
    # Single flight: the next tick, while both tasks are queued, starts nothing.
    assert scheduled_task_start("maintenance_global") == {}
    runs = TaskRun.objects.filter(type="maintenance_global")
    assert sorted(runs.values_list("tenant__slug", "source")) == [
        ("acme", "scheduler"),
        ("globex", "scheduler"),
    ]


def test_a_discovery_tick_starts_through_discovery_start(tenant, monkeypatch):
    calls = []
    real = schedules.discovery_start

    def recording(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(schedules, "discovery_start", recording)
    started = scheduled_task_start("folder_discovery", tenant_slug="acme")
    assert [(c["tenant"], c["source"]) for c in calls] == [(tenant, "scheduler")]
    run = TaskRun.objects.get(pk=started["acme"])
    assert (run.type, run.source) == ("folder_discovery", "scheduler")
