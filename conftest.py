"""Shared fixtures: a temporary PHOTOS_ROOT for every test, tenants, users and projects."""

from __future__ import annotations

import os

import pytest

from tests import factories

# ``asgi_live_server``: uvicorn serving the product's ASGI app in the test process.
pytest_plugins = ("tests.asgi_server",)


# What a test needs of the database, by fixture: without one of these it touches none.
DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_setup", "asgi_live_server"})


@pytest.hookimpl(trylast=True)  # after ``-m`` has deselected what it does
def pytest_collection_modifyitems(config, items):
    """Two selections for bin/test's lanes, by environment variable:

    - ``PHOTOLIB_TEST_DATABASE_ONLY=1`` (the second database): only the tests that use the
      database run; the others (image decoding, file rules, parsers) ran on the first.
    - ``PHOTOLIB_TEST_SHARD=k/n``: every n-th test from the k-th (1-based), so that n lanes
      share the suite evenly (a module's parametrized cases are spread over all of them).
    """
    kept = list(items)
    if os.environ.get("PHOTOLIB_TEST_DATABASE_ONLY") == "1":
        kept = [
            item
            for item in kept
            if set(getattr(item, "fixturenames", ())) & DATABASE_FIXTURES
            or item.get_closest_marker("django_db")
        ]
    shard = os.environ.get("PHOTOLIB_TEST_SHARD", "").strip()
    if shard:
        index, count = (int(part) for part in shard.split("/"))
        if not 1 <= index <= count:
            raise pytest.UsageError(f"PHOTOLIB_TEST_SHARD={shard}: expected k/n with 1 <= k <= n")
        kept = kept[index - 1 :: count]
    if len(kept) != len(items):
        chosen = set(map(id, kept))
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in chosen])
        items[:] = kept


@pytest.fixture(autouse=True)
def photos_root(tmp_path, settings):
    """Every test gets its own real PHOTOS_ROOT on disk (and EXPORTS_ROOT and the loupe's
    rendition caches beside it)."""
    root = tmp_path / "photos"
    root.mkdir()
    settings.PHOTOS_ROOT = root
    settings.EXPORTS_ROOT = tmp_path / "exports"
    settings.PIPELINE_FULLSIZE_CACHE_DIR = tmp_path / "cache" / "fullsize"
    settings.PIPELINE_SCREEN_CACHE_DIR = tmp_path / "cache" / "screen"
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


@pytest.fixture(autouse=True)
def throttle_counters_clear(request):
    """API throttles count in the shared cache (the database or Redis); every test that can
    reach the database starts with none counted."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker is not None:
        request.getfixturevalue("db")
    else:
        yield
        return
    from django.core.cache import cache

    # Clear before, not after: a test may end with its database connection closed, and a
    # ``db`` test's counts roll back with its transaction anyway.
    cache.clear()
    yield


def _token_client(user):  # type: ignore[no-untyped-def]
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def client_for(db):
    """``client_for(user)``: an API client authenticated as that user with a token."""
    return _token_client


@pytest.fixture
def api_client(user):
    """An API client authenticated as ``user`` (tenant ``acme``) with a token."""
    return _token_client(user)


@pytest.fixture
def other_client(other_user):
    """An API client of ``other_user`` in tenant ``globex``."""
    return _token_client(other_user)


# --- admin ---------------------------------------------------------------------------------


@pytest.fixture
def staff(tenant):
    """A staff user of ``tenant`` with the staff permissions ``tenant_user --staff`` grants."""
    from projects.services import staff_permissions_grant

    user = factories.make_user(tenant, "stella", staff=True)
    staff_permissions_grant(user=user)
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def superuser(db):
    return factories.make_user(None, "root", superuser=True)


@pytest.fixture
def super_client(superuser):
    from django.test import Client

    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def other_project(other_tenant):
    return factories.make_project(other_tenant, "Globex Secret Shoot")


@pytest.fixture
def second(tenant):
    """A second project of ``tenant``."""
    return factories.make_project(tenant, "Second shoot")


@pytest.fixture
def foreign(other_tenant):
    """A project of another tenant (``globex``)."""
    return factories.make_project(other_tenant, "Foreign")


@pytest.fixture
def small_sizes(settings):
    """Derivatives small enough to make fast: 100 px thumbnails, 1000 px previews."""
    settings.PIPELINE_THUMB_SIZE = 100
    settings.PIPELINE_PREVIEW_SIZE = 1000


@pytest.fixture
def dest(tenant):
    """The destination project of a move."""
    return factories.make_project(tenant, "Destination")
