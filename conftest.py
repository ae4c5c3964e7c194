"""Shared fixtures: a temporary PHOTOS_ROOT for every test, tenants, users and projects."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def photos_root(tmp_path, settings):
    """Every test gets its own real PHOTOS_ROOT on disk."""
    root = tmp_path / "photos"
    root.mkdir()
    settings.PHOTOS_ROOT = root
    return root


@pytest.fixture
def tenant(db):
    return factories.make_tenant("acme", "Acme Studio")


@pytest.fixture
def other_tenant(db):
    return factories.make_tenant("globex", "Globex Photo")


@pytest.fixture
def user(tenant):
    return factories.make_user(tenant, "alice")


@pytest.fixture
def staff_user(tenant):
    return factories.make_user(tenant, "stella", staff=True)


@pytest.fixture
def other_user(other_tenant):
    return factories.make_user(other_tenant, "bob")


@pytest.fixture
def project(tenant):
    return factories.make_project(tenant, "Iceland July 2025")


@pytest.fixture
def workers(transactional_db, tmp_path):
    """Start real qcluster processes for both lanes; ``workers.start(**env)`` returns them."""
    from django_q.brokers import get_broker
    from django_q.models import Schedule

    from tests.workers import Cluster

    started: list[Cluster] = []
    # Schedules would fire maintenance in the middle of a test; tests that want them add them.
    Schedule.objects.all().delete()
    for lane in ("priority", "default"):
        get_broker(lane).purge_queue()

    class Workers:
        clusters = started

        def start(self, lanes=("priority", "default"), **env):
            for lane in lanes:
                started.append(Cluster(lane, tmp_path, **env))
            return started

        def logs(self) -> str:
            return "\n".join(f"--- {c.lane} ---\n{c.log()}" for c in started)

    yield Workers()
    for cluster in started:
        cluster.stop()
