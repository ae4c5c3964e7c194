import pytest
from django.core.management import call_command
from django_q.models import Schedule

from jobs.exceptions import TaskAlreadyRunning
from jobs.models import Lane, TaskRun
from jobs.scheduling import (
    SCHEDULE_CLUSTER,
    prune,
    scheduled_task_start,
    schedules_all,
    schedules_setup,
)
from jobs.tasks import start_task


def test_setup_schedules_twice_leaves_one_per_name(db):
    call_command("setup_schedules")
    call_command("setup_schedules")
    names = list(Schedule.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(spec.name for spec in schedules_all())


def test_schedules_follow_interval_settings(db, settings):
    settings.PIPELINE_DISCOVERY_INTERVAL_MINUTES = 7
    schedules_setup()
    assert Schedule.objects.get(name="pipeline: folder_discovery").minutes == 7


def test_every_schedule_runs_in_the_scheduler_cluster_that_serve_starts(db, settings):
    schedules_setup()
    assert set(Schedule.objects.values_list("cluster", flat=True)) == {SCHEDULE_CLUSTER}
    # A cluster of its own, no lane: no job is ever claimed by its worker.
    assert SCHEDULE_CLUSTER not in Lane.values
    assert SCHEDULE_CLUSTER in settings.Q_CLUSTER["ALT_CLUSTERS"]


@pytest.mark.parametrize("old_cluster", [None, "priority"])
def test_setup_schedules_moves_old_rows_to_the_scheduler_cluster(db, old_cluster):
    # Rows made by older code had no cluster, so django-q2 never ran them (no lane is named
    # like the site), or the priority lane's, where a tick waited behind long jobs; the next
    # migrate or setup_schedules must fix them in place.
    schedules_setup()
    Schedule.objects.update(cluster=old_cluster)
    ids = set(Schedule.objects.values_list("pk", flat=True))
    call_command("setup_schedules")
    assert set(Schedule.objects.values_list("cluster", flat=True)) == {SCHEDULE_CLUSTER}
    assert set(Schedule.objects.values_list("pk", flat=True)) == ids


def test_two_ticks_while_task_is_queued_enqueue_it_once(tenant, other_tenant):
    first = scheduled_task_start("test_scheduled")
    second = scheduled_task_start("test_scheduled")
    assert set(first) == {"acme", "globex"}
    assert second == {}
    assert TaskRun.objects.filter(type="test_scheduled", tenant=tenant).count() == 1


def test_single_flight_reports_the_running_task(tenant):
    started = start_task("test_scheduled", tenant, single_flight=True)
    with pytest.raises(TaskAlreadyRunning) as excinfo:
        start_task("test_scheduled", tenant, single_flight=True)
    assert excinfo.value.task_id == started["task_id"]


def test_after_the_task_ends_the_next_tick_starts_it_again(tenant):
    from jobs.runtime import drain

    scheduled_task_start("test_scheduled", tenant_slug="acme")
    drain()
    assert scheduled_task_start("test_scheduled", tenant_slug="acme")
    assert TaskRun.objects.filter(type="test_scheduled").count() == 2


def test_prune_deletes_old_events_and_finished_tasks(tenant, settings):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.events import event_record
    from jobs.models import Event
    from jobs.runtime import drain

    started = start_task("test_scheduled", tenant)
    drain()
    old = event_record(tenant_id=tenant.pk, type="item")
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    TaskRun.objects.filter(pk=started["task_id"]).update(
        finished_at=timezone.now() - timedelta(days=40)
    )
    result = prune()
    assert result["events"] >= 1
    assert not Event.objects.filter(pk=old.pk).exists()
    assert not TaskRun.objects.filter(pk=started["task_id"]).exists()


def test_sweep_if_due_leaves_a_punctual_tick_to_the_scheduler(db):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.sweeper import SWEEPER_SCHEDULE, sweep_if_due

    schedules_setup()
    # Due for a while, but the scheduler (its own cluster, no job in its way) will fire it.
    due = timezone.now() - timedelta(seconds=90)
    Schedule.objects.filter(name=SWEEPER_SCHEDULE).update(next_run=due)
    assert sweep_if_due() is None
    assert Schedule.objects.get(name=SWEEPER_SCHEDULE).next_run == due


def test_sweep_if_due_takes_a_late_tick_once(db):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.sweeper import SWEEP_LATE_SECONDS, SWEEPER_SCHEDULE, sweep_if_due

    schedules_setup()
    Schedule.objects.filter(name=SWEEPER_SCHEDULE).update(
        next_run=timezone.now() - timedelta(seconds=SWEEP_LATE_SECONDS + 1)
    )
    assert sweep_if_due() is not None
    assert sweep_if_due() is None
    assert Schedule.objects.get(name=SWEEPER_SCHEDULE).next_run > timezone.now()
