"""The photo list's queries are planned as index scans on PostgreSQL (SPEC §9 at scale): with
20,000 photos and fresh statistics, the first page and a cursor page, across the tenant's
projects and within one, read ``photos_photo`` through an index in list order, never with a
sequential scan; ``?tags=`` reads a rare tag's photos first and a common tag's in list
order. Timings are for ``bench/browse.py``; this pins the plan's shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from photos.api.filters import TAG_FIRST_MAX
from photos.models import Photo, Tag
from tests.factories import make_project
from tests.urls import api_path

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
        reply = api_client.get(api_path("photo-list"), params)
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
    reply = api_client.get(api_path("photo-list"), params).json()
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


@pytest.fixture
def tagged_library(big_library):
    """Two tags in every project: ``rare`` on 40 of the 20,000 photos, ``common`` on 8,000
    (more than ``TAG_FIRST_MAX``)."""
    through = Photo.tags.through
    rare = {p.pk: Tag.objects.create(project=p, name="rare") for p in big_library}
    common = {p.pk: Tag.objects.create(project=p, name="common") for p in big_library}
    rows = []
    for n, (pk, project_id) in enumerate(
        Photo.objects.order_by("id").values_list("pk", "project_id")
    ):
        if n % 500 == 7:
            rows.append(through(photo_id=pk, tag_id=rare[project_id].pk))
        if n % 5 < 2:
            rows.append(through(photo_id=pk, tag_id=common[project_id].pk))
    through.objects.bulk_create(rows, batch_size=5000)
    assert through.objects.filter(tag__name="common").count() > TAG_FIRST_MAX
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE photos_tag")
        cursor.execute("ANALYZE photos_photo_tags")
    return big_library


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["all projects", "one project"])
def test_a_rare_tag_is_read_tag_first_and_a_common_one_in_list_order(
    tagged_library, api_client, scope
):
    base = {"page_size": "20"}
    if scope == "one project":
        base["project"] = str(tagged_library[4].pk)
    for tag in ("rare", "common"):
        params = {**base, "tags": tag}
        plans = _plans(api_client, params)
        reply = api_client.get(api_path("photo-list"), params).json()
        expected = Photo.objects.filter(tags__name=tag)
        if scope == "one project":
            expected = expected.filter(project=tagged_library[4])
        first = list(expected.order_by("taken_at", "basename", "id").values_list("id", flat=True))
        assert [p["id"] for p in reply["results"]] == first[:20]
        if reply["next"]:
            cursor = parse_qs(urlparse(reply["next"]).query)["cursor"][0]
            plans += _plans(api_client, {**params, "cursor": cursor})
        for plan in plans:
            assert not re.search(r"Seq Scan on photos_photo\b", plan), plan
            if tag == "rare":
                # Its few photos by primary key, then sorted: never a walk of the list order
                # past thousands of photos without the tag.
                assert "photos_photo_pkey" in plan, plan
                assert not re.search(r"photo_(project_)?taken_order", plan), plan
            else:
                # A page of a common tag: the list order's index, each photo checked against
                # the tag's photos; no sort of every tagged photo.
                assert re.search(r"Index Scan using photo_(project_)?taken_order", plan), plan
                assert "Sort" not in plan.split("\n")[1], plan
