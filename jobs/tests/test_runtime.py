"""The runtime's wiring: what a worker does around a handler."""

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from jobs.enqueue import job_enqueue
from jobs.lifecycle import job_claim
from jobs.models import JobStatus
from jobs.runtime import run_job
from jobs.scheduling import schedules_setup
from jobs.sweeper import SWEEPER_SCHEDULE


def test_a_busy_workers_heartbeat_takes_a_late_sweeper_tick(transactional_db, tenant, settings):
    settings.PIPELINE_HEARTBEAT_SECONDS = 0.2
    schedules_setup()
    Schedule.objects.filter(name=SWEEPER_SCHEDULE).update(
        next_run=timezone.now() - timedelta(seconds=120)
    )
    job_enqueue(tenant=tenant, type="test_sleep", priority=50, payload={"seconds": 1})
    job = job_claim(worker_id="w")
    assert job is not None
    ended = run_job(job, worker_id="w", heartbeat_thread=True)
    assert ended.status == JobStatus.COMPLETED
    assert Schedule.objects.get(name=SWEEPER_SCHEDULE).next_run > timezone.now()
