"""Lanes: one rule maps priorities to lanes, and every reading of it agrees."""

import pytest
from django.db import transaction

from jobs import lanes, sweeper
from jobs.enqueue import job_enqueue
from jobs.lanes import (
    lane_expression,
    lane_for_priority,
    lane_priority_range,
    lane_q,
    lane_set_paused,
    lane_wake_consume,
    lanes_paused,
)
from jobs.models import Job, Lane
from jobs.sweeper import sweep


@pytest.mark.parametrize("threshold", [90, 60])
def test_threshold_splits_the_lanes(settings, threshold):
    settings.PIPELINE_PRIORITY_THRESHOLD = threshold
    assert lane_priority_range(Lane.PRIORITY) == (threshold, None)
    assert lane_priority_range(Lane.DEFAULT) == (None, threshold - 1)
    assert lane_for_priority(threshold) == Lane.PRIORITY
    assert lane_for_priority(threshold - 1) == Lane.DEFAULT
    assert lane_for_priority(1000) == Lane.PRIORITY
    assert lane_for_priority(-5) == Lane.DEFAULT


def test_unknown_lane_is_refused():
    with pytest.raises(ValueError, match="Unknown lane 'fast'"):
        lane_priority_range("fast")


def test_filter_expression_and_job_lane_agree(tenant, settings):
    settings.PIPELINE_PRIORITY_THRESHOLD = 70
    for priority in (0, 50, 69, 70, 71, 100):
        job_enqueue(tenant=tenant, type="test_noop", priority=priority)
    by_filter = {job.pk: lane for lane in Lane.values for job in Job.objects.filter(lane_q(lane))}
    by_expression = dict(Job.objects.annotate(lane=lane_expression()).values_list("pk", "lane"))
    by_priority = {job.pk: lane_for_priority(job.priority) for job in Job.objects.all()}
    assert by_filter == by_expression == by_priority
    assert sorted(Job.objects.filter(lane_q(Lane.PRIORITY)).values_list("priority", flat=True)) == [
        70,
        71,
        100,
    ]


def test_wake_ups_go_out_after_commit_only(tenant, monkeypatch, django_capture_on_commit_callbacks):
    woken: list[str] = []
    monkeypatch.setattr(lanes, "wake_lane", woken.append)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job_enqueue(tenant=tenant, type="test_noop", priority=95)
        job_enqueue(tenant=tenant, type="test_noop", priority=10)
        assert woken == []
    assert woken == [Lane.PRIORITY, Lane.DEFAULT]


def test_pause_and_resume(db, monkeypatch):
    woken: list[str] = []
    monkeypatch.setattr(lanes, "wake_lane", woken.append)
    lane_set_paused(lane=Lane.DEFAULT, paused=True)
    assert lanes_paused() == {Lane.PRIORITY: False, Lane.DEFAULT: True}
    assert woken == []
    lane_set_paused(lane=Lane.DEFAULT, paused=False)
    assert lanes_paused() == {Lane.PRIORITY: False, Lane.DEFAULT: False}
    assert woken == [Lane.DEFAULT]


def _enqueue_committed(tenant, capture, priority: int = 10) -> None:
    with capture(execute=True):
        job_enqueue(tenant=tenant, type="test_noop", priority=priority)


def test_a_pending_wake_up_makes_more_unnecessary_until_a_worker_takes_it(
    tenant, monkeypatch, django_capture_on_commit_callbacks
):
    woken: list[str] = []
    monkeypatch.setattr(lanes, "wake_lane", woken.append)
    for _ in range(5):
        _enqueue_committed(tenant, django_capture_on_commit_callbacks)
    assert woken == [Lane.DEFAULT]
    _enqueue_committed(tenant, django_capture_on_commit_callbacks, priority=95)
    assert woken == [Lane.DEFAULT, Lane.PRIORITY], "each lane has its own marker"
    lane_wake_consume(Lane.DEFAULT)  # a worker started draining
    _enqueue_committed(tenant, django_capture_on_commit_callbacks)
    assert woken == [Lane.DEFAULT, Lane.PRIORITY, Lane.DEFAULT]


def test_without_a_coalescing_window_every_enqueue_wakes(
    tenant, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.PIPELINE_WAKE_COALESCE_SECONDS = 0
    woken: list[str] = []
    monkeypatch.setattr(lanes, "wake_lane", woken.append)
    for _ in range(3):
        _enqueue_committed(tenant, django_capture_on_commit_callbacks)
    assert woken == [Lane.DEFAULT] * 3


def test_a_lost_coalesced_wake_up_is_resent_by_the_sweeper(
    tenant, monkeypatch, settings, django_capture_on_commit_callbacks
):
    woken: list[str] = []
    monkeypatch.setattr(lanes, "wake_lane", woken.append)
    monkeypatch.setattr(sweeper, "wake_lane", woken.append)
    assert lanes.wake_lane_coalesced(Lane.DEFAULT)
    woken.clear()  # that message is lost: the marker says awake, no message exists
    _enqueue_committed(tenant, django_capture_on_commit_callbacks)
    assert woken == []
    assert sweep(resend_after_seconds=0)["woken"] == {Lane.DEFAULT: 1}
    assert woken == [Lane.DEFAULT]
