"""The runtime's wiring: what a worker does around a handler."""

import threading
import time
from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from jobs.context import Heartbeat, heartbeat_thread
from jobs.enqueue import job_enqueue
from jobs.lifecycle import job_claim
from jobs.models import Job, JobStatus
from jobs.runtime import run_job
from jobs.scheduling import schedules_setup
from jobs.sweeper import SWEEP_LATE_SECONDS, SWEEPER_SCHEDULE


def test_a_busy_workers_heartbeat_takes_a_late_sweeper_tick(transactional_db, tenant, settings):
    settings.PIPELINE_HEARTBEAT_SECONDS = 0.2
    schedules_setup()
    Schedule.objects.filter(name=SWEEPER_SCHEDULE).update(
        next_run=timezone.now() - timedelta(seconds=SWEEP_LATE_SECONDS + 60)
    )
    job_enqueue(tenant=tenant, type="test_sleep", priority=50, payload={"seconds": 1})
    job = job_claim(worker_id="w")
    assert job is not None
    ended = run_job(job, worker_id="w", heartbeat_thread=True)
    assert ended.status == JobStatus.COMPLETED
    assert Schedule.objects.get(name=SWEEPER_SCHEDULE).next_run > timezone.now()


def test_one_heartbeat_thread_serves_every_job_of_the_process(transactional_db, tenant, settings):
    settings.PIPELINE_HEARTBEAT_SECONDS = 0.2
    threads = []
    for _ in range(2):
        job_enqueue(tenant=tenant, type="test_sleep", priority=50, payload={"seconds": 0.6})
        job = job_claim(worker_id="w")
        assert run_job(job, worker_id="w", heartbeat_thread=True).status == JobStatus.COMPLETED
        threads.append(heartbeat_thread()._thread)
    assert threads[0] is threads[1]
    assert threads[0].is_alive()
    assert [t.name for t in threading.enumerate()].count("heartbeat") == 1
    assert heartbeat_thread().current is None


def test_the_heartbeat_thread_sees_a_cancel_between_item_boundaries(
    transactional_db, tenant, settings
):
    settings.PIPELINE_HEARTBEAT_SECONDS = 0.2
    job_enqueue(tenant=tenant, type="test_sleep", priority=50, payload={"seconds": 0.1})
    job = job_claim(worker_id="w")
    beats: list[bool] = []
    heartbeat = Heartbeat(
        job_id=job.pk, worker_id="w", interval=0.2, on_beat=lambda: beats.append(True)
    )
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    heartbeat.start()
    try:
        for _ in range(100):
            if heartbeat.cancel_requested:
                break
            time.sleep(0.05)
    finally:
        heartbeat.stop()
    assert heartbeat.cancel_requested
    assert beats
