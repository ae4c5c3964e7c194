"""The photo list's queries are planned as index scans on PostgreSQL (SPEC §9 at scale): with
20,000 photos and fresh statistics, the first page and a cursor page, across the tenant's
projects and within one, read ``photos_photo`` through an index in list order, never with a
sequential scan. Timings are for ``bench/browse.py``; this pins the plan's shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from photos.models import Photo
from tests.factories import make_project

PHOTOS = 20_000
PROJECTS = 10


@pytest.fixture
def big_library(tenant):
    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    projects = [make_project(tenant, f"Shoot {n}", create_dir=False) for n in range(PROJECTS)]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    per_project = PHOTOS // PROJECTS
    Photo.objects.bulk_create(
        [
            Photo(
                project=project,
                basename=f"IMG_{m:05d}",
                jpg_available=True,
                keep_jpg=m % 25 != 0,
                raw_available=m % 3 == 0,
                keep_raw=m % 3 == 0,
                taken_at=None if m % 50 == 0 else start + timedelta(days=n * 3, seconds=m * 5),
            )
            for n, project in enumerate(projects)
            for m in range(per_project)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE photos_photo")
        cursor.execute("ANALYZE projects_project")
    return projects


def _plans(api_client, params: dict[str, str]) -> list[str]:
    """EXPLAIN of each query of the request that pages ``photos_photo``."""
    with CaptureQueriesContext(connection) as captured:
        reply = api_client.get("/api/photos/", params)
    assert reply.status_code == 200
    plans = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if 'FROM "photos_photo"' in sql and "LIMIT" in sql:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert plans, "the list ran no paging query"
    return plans


def _next_cursor(api_client, params: dict[str, str]) -> str:
    reply = api_client.get("/api/photos/", params).json()
    assert reply["next"]
    return parse_qs(urlparse(reply["next"]).query)["cursor"][0]


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["all projects", "one project"])
@pytest.mark.parametrize("filters", [{}, {"pending": "true"}], ids=["no filter", "pending"])
def test_first_and_cursor_pages_are_index_scans(big_library, api_client, scope, filters):
    params = {"page_size": "20", **filters}
    if scope == "one project":
        params["project"] = str(big_library[4].pk)
    first = _plans(api_client, params)
    # Walk a few pages in, then plan that page.
    cursor_params = dict(params)
    for _ in range(3):
        cursor_params["cursor"] = _next_cursor(api_client, cursor_params)
    deep = _plans(api_client, cursor_params)
    for plan in [*first, *deep]:
        assert not re.search(r"Seq Scan on photos_photo\b", plan), plan
        assert "Index Scan" in plan or "Index Only Scan" in plan, plan
        # Read in list order: a LIMIT over an index scan, not a sort of every matching row.
        assert "Sort" not in plan.split("\n")[1], plan
